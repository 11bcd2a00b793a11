import { randomUUID } from 'node:crypto';
import sharp from 'sharp';
import type { FastifyInstance } from 'fastify';
import type { Role } from '../db/types.js';
import { systemContext } from '../shared/context.js';
import type { UserContext } from '../shared/context.js';
import type { StoredUpload } from '../plugins/uploads.js';

/**
 * A small, believable platform for a fresh database, made through the services (so every
 * rule, counter and event is what the API itself would leave): categories, approved
 * instructors, published and draft courses with generated thumbnails, lessons with a short
 * generated video and a PDF, students with enrollments, progress and reviews.
 */

export const DEMO_PASSWORD = 'learn-Together-42';

export interface DemoLogin {
  username: string;
  role: Role;
  password: string;
}

export class NotEmpty extends Error {}

const box = (type: string, body: Buffer) => {
  const header = Buffer.alloc(8);
  header.writeUInt32BE(8 + body.length);
  header.write(type, 4, 'latin1');
  return Buffer.concat([header, body]);
};

/** A tiny MP4 container (ftyp, free, mdat): what file-type recognises as MP4. */
function demoVideo(): Buffer {
  const ftyp = box('ftyp', Buffer.concat([Buffer.from('isom', 'latin1'), Buffer.alloc(4), Buffer.from('isomiso2mp41', 'latin1')]));
  return Buffer.concat([ftyp, box('free', Buffer.alloc(8)), box('mdat', Buffer.alloc(2048, 0x2a))]);
}

/** A one-page PDF with the lesson's title as its text. */
function demoPdf(title: string): Buffer {
  const text = title.replace(/[()\\]/g, '');
  const stream = `BT /F1 18 Tf 72 720 Td (${text}) Tj ET`;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let body = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((object, i) => {
    offsets.push(body.length);
    body += `${i + 1} 0 obj\n${object}\nendobj\n`;
  });
  const xref = body.length;
  body += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  body += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(body, 'latin1');
}

/** A thumbnail: a colour field with a lighter band, 640×360. */
function demoThumbnail(hue: number): Promise<Buffer> {
  const colour = (l: number) => {
    const c = (n: number) => Math.round(255 * Math.max(0, Math.min(1, l - 0.3 * Math.cos((((hue / 60 + n) % 6) * Math.PI) / 3))));
    return { r: c(0), g: c(2), b: c(4) };
  };
  const band = Buffer.from(`<svg width="640" height="360"><rect y="220" width="640" height="80" fill="white" fill-opacity="0.35"/></svg>`);
  return sharp({ create: { width: 640, height: 360, channels: 3, background: colour(0.5) } })
    .composite([{ input: band }])
    .png()
    .toBuffer();
}

const CATEGORIES = [
  { name: 'Programming', description: 'Languages, tools and the craft of software.' },
  { name: 'Data Science & AI', description: 'Statistics, machine learning and working with data.' },
  { name: 'Design', description: 'Visual, interaction and product design.' },
];

const INSTRUCTORS = [
  { username: 'grace', first_name: 'Grace', last_name: 'Okafor', bio: 'Backend engineer for fifteen years; teaches Python and SQL.' },
  { username: 'lin', first_name: 'Lin', last_name: 'Moreau', bio: 'Data scientist and statistics lecturer.' },
];

const STUDENTS = [
  { username: 'sam', first_name: 'Sam', last_name: 'Patel' },
  { username: 'noor', first_name: 'Noor', last_name: 'Haddad' },
  { username: 'mateo', first_name: 'Mateo', last_name: 'Silva' },
];

const COURSES = [
  {
    by: 0,
    category: 0,
    title: 'Python from Scratch',
    price: '0',
    published: true,
    description: 'Variables, functions and files: write useful Python scripts in a weekend.',
    lessons: ['Installing Python', 'Values and variables', 'Functions', 'Reading and writing files'],
  },
  {
    by: 0,
    category: 0,
    title: 'SQL for Application Developers',
    price: '29.00',
    published: true,
    description: 'Joins, indexes and transactions, with the queries real applications run.',
    lessons: ['Tables and keys', 'Joins', 'Indexes that help', 'Transactions'],
  },
  {
    by: 1,
    category: 1,
    title: 'Statistics without Tears',
    price: '19.99',
    published: true,
    description: 'Means, medians, variance and the intuition behind them.',
    lessons: ['Describing data', 'Spread and variance', 'Sampling'],
  },
  {
    by: 1,
    category: 1,
    title: 'Machine Learning Foundations (draft)',
    price: '49.00',
    published: false,
    description: 'Coming soon: models, training and evaluation.',
    lessons: ['What learning means'],
  },
];

const REVIEWS = [
  'Clear explanations and just the right pace.',
  'Good examples; I used them at work the next day.',
  'Solid course. A few more exercises would help.',
];

export async function seedDemo(app: FastifyInstance, options: { force?: boolean; origin?: string } = {}): Promise<DemoLogin[]> {
  const { services, database } = app;
  const db = database.db;
  const users = await db.selectFrom('users').select(db.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  if (Number(users.n) > 0 && !options.force) {
    throw new NotEmpty(
      `The database already has ${Number(users.n)} users: seed-demo fills a fresh database (pass --force to add the demo anyway).`,
    );
  }
  // A second run with --force adds a second set of demo accounts beside the first.
  const suffix = Number(users.n) > 0 ? `_${randomUUID().slice(0, 4)}` : '';
  const origin = options.origin ?? `http://127.0.0.1:${app.config.port}`;
  const anonymous = systemContext(origin);
  const as = (id: number, role: Role): UserContext => systemContext(origin, { id, role, sessionId: 'seed-demo' }) as UserContext;
  const logins: DemoLogin[] = [];
  const store = async (folder: string, ext: string, contentType: string, data: Buffer): Promise<StoredUpload> => {
    const key = `${folder}/${randomUUID()}.${ext}`;
    const size = await services.storage.put(key, data, contentType);
    return { key, size, contentType };
  };

  const adminName = `admin${suffix}`;
  const admin = await services.users.createAdmin({ username: adminName, email: `${adminName}@demo.example`, password: DEMO_PASSWORD });
  logins.push({ username: adminName, role: 'admin', password: DEMO_PASSWORD });
  const adminCtx = as(admin.id, 'admin');

  const categories = [];
  for (const c of CATEGORIES) {
    const name = suffix ? `${c.name} ${suffix.slice(1)}` : c.name;
    categories.push(await services.categories.create(adminCtx, { name, description: c.description }));
  }

  const instructors = [];
  for (const i of INSTRUCTORS) {
    const username = `${i.username}${suffix}`;
    const user = await services.users.register(anonymous, {
      ...i,
      username,
      email: `${username}@demo.example`,
      password: DEMO_PASSWORD,
      role: 'instructor',
    });
    await services.users.setInstructorStatus(adminCtx, user.id, 'approved');
    instructors.push(user);
    logins.push({ username, role: 'instructor', password: DEMO_PASSWORD });
  }

  const students = [];
  for (const s of STUDENTS) {
    const username = `${s.username}${suffix}`;
    students.push(
      await services.users.register(anonymous, { ...s, username, email: `${username}@demo.example`, password: DEMO_PASSWORD, bio: '' }),
    );
    logins.push({ username, role: 'student', password: DEMO_PASSWORD });
  }

  const published: { id: number; lessons: number[] }[] = [];
  for (const [index, c] of COURSES.entries()) {
    const owner = instructors[c.by]!;
    const ctx = as(owner.id, 'instructor');
    const thumbnail = await store('thumbnails', 'png', 'image/png', await demoThumbnail(index * 70));
    const course = await services.courses.create(
      ctx,
      { title: c.title, description: c.description, price: c.price, category: categories[c.category]!.id, is_published: c.published },
      thumbnail,
    );
    const lessonIds: number[] = [];
    for (const [order, title] of c.lessons.entries()) {
      const uploads = {
        video: await store('lessons/videos', 'mp4', 'video/mp4', demoVideo()),
        ...(order === 0
          ? { attachment: await store('lessons/attachments', 'pdf', 'application/pdf', demoPdf(`${c.title}: ${title}`)) }
          : {}),
      };
      const lesson = await services.lessons.create(
        ctx,
        {
          course: course.id,
          title,
          content: `# ${title}\n\nNotes for *${title.toLowerCase()}*.`,
          order: order + 1,
          duration: 180 + 60 * order,
          is_preview: order === 0,
        },
        uploads,
      );
      lessonIds.push(lesson.id);
    }
    if (c.published) published.push({ id: course.id, lessons: lessonIds });
  }

  // Students: everyone takes the free course; progress and reviews vary.
  for (const [s, student] of students.entries()) {
    const ctx = as(student.id, 'student');
    for (const [c, course] of published.entries()) {
      if ((s + c) % 3 === 2) continue;
      await services.enrollments.enroll(ctx, course.id);
      const done = c === 0 && s === 0 ? course.lessons.length : Math.max(1, course.lessons.length - 1 - s);
      for (const lesson of course.lessons.slice(0, done)) await services.enrollments.setLessonDone(ctx, lesson, true);
      if (s < 2)
        await services.reviews.create(ctx, { course: course.id, rating: 5 - ((s + c) % 2), comment: REVIEWS[(s + c) % REVIEWS.length]! });
    }
  }
  return logins;
}
