import type { Random } from './random.js';

/**
 * Word lists for course text. Every technology is equally likely as a title's subject and a
 * description mentions a second one half of the time, so any one of them (`python`) is named
 * by roughly 1 / TECHNOLOGIES.length × 1.5 of the catalog: a few percent, as in a real one.
 */
export const TECHNOLOGIES = [
  'Python',
  'JavaScript',
  'TypeScript',
  'Rust',
  'Go',
  'Java',
  'Kotlin',
  'Swift',
  'Ruby',
  'Elixir',
  'Haskell',
  'Scala',
  'Clojure',
  'Perl',
  'Lua',
  'Julia',
  'Fortran',
  'COBOL',
  'Dart',
  'Zig',
  'PostgreSQL',
  'SQLite',
  'Redis',
  'Kafka',
  'Docker',
  'Kubernetes',
  'Terraform',
  'Linux',
  'React',
  'Vue',
  'Svelte',
  'Angular',
  'Django',
  'Rails',
  'Spring',
  'Flutter',
  'TensorFlow',
  'PyTorch',
  'Pandas',
  'Excel',
] as const;

const OPENERS = [
  'Practical',
  'Complete',
  'Modern',
  'Hands-on',
  'Essential',
  'Advanced',
  'Beginner',
  'Applied',
  'Professional',
  'Effective',
  'Mastering',
  'Intro to',
  'Deep Dive into',
  'Real-World',
  'Pragmatic',
];
const GOALS = [
  'for Data Analysis',
  'for the Web',
  'from Scratch',
  'in Production',
  'for Beginners',
  'Bootcamp',
  'Patterns',
  'Internals',
  'Performance Tuning',
  'Testing',
  'Security',
  'for Teams',
  'Projects',
  'Crash Course',
  'Masterclass',
  'Recipes',
  'Fundamentals',
  'Architecture',
  'Debugging',
  'Automation',
];
const SENTENCE_STARTS = [
  'In this course you will learn',
  'Step by step we cover',
  'You will practise',
  'We build together',
  'This class explains',
  'Learn through exercises',
  'A guided tour of',
  'Short lessons introduce',
];
const SUBJECTS = [
  'the core ideas',
  'idiomatic code',
  'testing strategies',
  'deployment',
  'performance work',
  'clean architecture',
  'debugging habits',
  'real projects',
  'the standard library',
  'tooling',
  'data structures',
  'error handling',
  'concurrency',
  'security basics',
  'code review',
];
const CLOSERS = [
  'No prior experience is needed.',
  'Exercises come with solutions.',
  'Each lesson ends with a quiz.',
  'Bring a laptop and curiosity.',
  'Ideal before a job interview.',
  'Includes a final project.',
];

const AREAS = [
  'Web Development',
  'Data Science',
  'Mobile Apps',
  'Cloud Computing',
  'DevOps',
  'Security',
  'Databases',
  'Machine Learning',
  'Game Development',
  'Design',
  'Photography',
  'Music',
  'Business',
  'Marketing',
  'Finance',
  'Languages',
  'Writing',
  'Health',
  'Mathematics',
  'Science',
];
const LEVELS = ['', 'Fundamentals', 'Advanced', 'Tools', 'Careers'];

export const FIRST_NAMES = [
  'Ada',
  'Alan',
  'Grace',
  'Linus',
  'Barbara',
  'Ken',
  'Margaret',
  'Dennis',
  'Frances',
  'Edsger',
  'Radia',
  'Donald',
  'Katherine',
  'Guido',
  'Hedy',
  'Bjarne',
  'Anita',
  'Tim',
  'Sophie',
  'John',
];
export const LAST_NAMES = [
  'Lovelace',
  'Turing',
  'Hopper',
  'Torvalds',
  'Liskov',
  'Thompson',
  'Hamilton',
  'Ritchie',
  'Allen',
  'Dijkstra',
  'Perlman',
  'Knuth',
  'Johnson',
  'Rossum',
  'Lamarr',
  'Stroustrup',
  'Borg',
  'Berners',
  'Wilson',
  'Backus',
];

const REVIEW_WORDS = [
  'Clear explanations.',
  'Too fast for me.',
  'Great exercises.',
  'Worth every cent.',
  'A bit dated.',
  'Loved the projects.',
  'The instructor knows the topic.',
  'Could use more examples.',
  'Excellent pacing.',
];

/** `count` distinct category names: areas, then areas with a level. */
export function categoryNames(count: number): string[] {
  const names: string[] = [];
  for (const level of LEVELS) {
    for (const area of AREAS) {
      names.push(level ? `${area} ${level}` : area);
      if (names.length === count) return names;
    }
  }
  for (let i = names.length; i < count; i++) names.push(`${AREAS[i % AREAS.length]} ${i}`);
  return names;
}

/** Plain ASCII names, so this equals what Django's slugify makes of them. */
export const slugOf = (name: string) =>
  name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');

export function courseTitle(random: Random): string {
  return `${random.pick(OPENERS)} ${random.pick(TECHNOLOGIES)} ${random.pick(GOALS)}`;
}

export function courseDescription(random: Random): string {
  const sentences = [`${random.pick(SENTENCE_STARTS)} ${random.pick(SUBJECTS)} and ${random.pick(SUBJECTS)}.`];
  if (random.chance(0.5)) sentences.push(`You will also touch on ${random.pick(TECHNOLOGIES)} along the way.`);
  sentences.push(`${random.pick(SENTENCE_STARTS)} ${random.pick(SUBJECTS)}.`, random.pick(CLOSERS));
  return sentences.join(' ');
}

export function lessonTitle(random: Random, position: number): string {
  return `Part ${position}: ${random.pick(SUBJECTS)}`;
}

export function reviewComment(random: Random): string {
  return random.chance(0.2) ? '' : `${random.pick(REVIEW_WORDS)} ${random.pick(REVIEW_WORDS)}`;
}

/**
 * `count` distinct search queries as people type them: one word or two, whole words or
 * prefixes (`pyth`), drawn from the words the generator writes (technologies, openers,
 * goals, subjects, category areas) and a few it never writes. Distinct after the project's
 * normalisation (lower case, words only), so none is a cache hit of another.
 */
export function searchQueries(random: Random, count: number): string[] {
  const words = [
    ...new Set(
      [...TECHNOLOGIES, ...OPENERS, ...GOALS, ...SUBJECTS, ...AREAS]
        .flatMap((phrase) => phrase.toLowerCase().match(/[a-z0-9]+/g) ?? [])
        .filter((word) => word.length >= 3),
    ),
  ];
  const prefix = (word: string) => word.slice(0, Math.max(2, Math.min(word.length - 1, random.int(3, 5))));
  const seen = new Set<string>();
  const queries: string[] = [];
  const add = (query: string) => {
    const key = (query.match(/[a-z0-9]+/g) ?? []).join(' ');
    if (key === '' || seen.has(key)) return;
    seen.add(key);
    queries.push(query);
  };
  for (const word of words) add(word);
  for (const word of words) add(prefix(word));
  for (let attempts = 0; queries.length < count && attempts < count * 100; attempts++) {
    const first = random.pick(words);
    const second = random.pick(words);
    if (first === second) continue;
    const kind = random.int(0, 2);
    add(kind === 0 ? `${first} ${second}` : kind === 1 ? `${first} ${prefix(second)}` : `${prefix(first)} ${prefix(second)}`);
  }
  // Shuffled, so a run that stops early still sees every kind.
  for (let i = queries.length - 1; i > 0; i--) {
    const j = random.int(0, i);
    [queries[i], queries[j]] = [queries[j]!, queries[i]!];
  }
  return queries.slice(0, count);
}
