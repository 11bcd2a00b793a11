import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { grade, percent } from '../../src/modules/quizzes/grading.js';
import type { GivenAnswer, GradedQuestion } from '../../src/modules/quizzes/grading.js';
import { attemptsLeft, revealsAnswers } from '../../src/modules/quizzes/policy.js';

const choices = (...correct: boolean[]) => correct.map((c, i) => ({ id: i + 1, correct: c }));
const question = (kind: GradedQuestion['kind'], extra: Partial<GradedQuestion> = {}): GradedQuestion => ({
  id: 1,
  kind,
  points: 2,
  choices: [],
  accepted_answers: [],
  explanation: '',
  ...extra,
});

/** One question graded alone: the points it scores for an answer. */
function scoreOf(q: GradedQuestion, answer: GivenAnswer | undefined): number {
  return grade([q], new Map(answer === undefined ? [] : [[q.id, answer]]), 50).points;
}

describe('grading, one table per question kind', () => {
  const tables: [string, GradedQuestion, [string, GivenAnswer | undefined, number][]][] = [
    [
      'single',
      question('single', { choices: choices(false, true, false) }),
      [
        ['the correct choice', { choices: [2] }, 2],
        ['a wrong choice', { choices: [1] }, 0],
        ['the correct one and another', { choices: [2, 3] }, 0],
        ['no choice', { choices: [] }, 0],
        ['unanswered', undefined, 0],
        ['text instead of choices', { text: '2' }, 0],
      ],
    ],
    [
      'true_false',
      question('true_false', { choices: choices(true, false) }),
      [
        ['true (correct)', { choices: [1] }, 2],
        ['false', { choices: [2] }, 0],
        ['both', { choices: [1, 2] }, 0],
        ['unanswered', undefined, 0],
      ],
    ],
    [
      'multiple',
      question('multiple', { choices: choices(true, false, true, false) }),
      [
        ['exactly the correct set', { choices: [1, 3] }, 2],
        ['the correct set in another order', { choices: [3, 1] }, 2],
        ['a subset', { choices: [1] }, 0],
        ['a superset', { choices: [1, 2, 3] }, 0],
        ['every choice', { choices: [1, 2, 3, 4] }, 0],
        ['none', { choices: [] }, 0],
        ['unanswered', undefined, 0],
      ],
    ],
    [
      'short_text',
      question('short_text', { accepted_answers: ['Paris', 'Αθήνα', 'Москва'] }),
      [
        ['an exact match', { text: 'Paris' }, 2],
        ['trimmed and case-insensitive', { text: '  pARIS \n' }, 2],
        ['Greek, other case', { text: 'ΑΘΉΝΑ' }, 2],
        ['Cyrillic, other case', { text: 'москва' }, 2],
        ['a near miss', { text: 'Pari' }, 0],
        ['blank', { text: '   ' }, 0],
        ['choices instead of text', { choices: [1] }, 0],
        ['unanswered', undefined, 0],
      ],
    ],
  ];
  for (const [kind, q, rows] of tables) {
    for (const [label, answer, expected] of rows) {
      it(`${kind}: ${label} → ${expected} points`, () => assert.equal(scoreOf(q, answer), expected));
    }
  }
});

describe('grading: score, pass mark, results', () => {
  it('scores the percent of points with two places and passes at score >= pass_mark', () => {
    const qs = [
      question('single', {
        id: 1,
        points: 1,
        choices: [
          { id: 11, correct: true },
          { id: 12, correct: false },
        ],
      }),
      question('single', {
        id: 2,
        points: 1,
        choices: [
          { id: 21, correct: true },
          { id: 22, correct: false },
        ],
      }),
      question('single', {
        id: 3,
        points: 1,
        choices: [
          { id: 31, correct: true },
          { id: 32, correct: false },
        ],
      }),
    ];
    const answers = new Map<number, GivenAnswer>([
      [1, { choices: [11] }],
      [2, { choices: [21] }],
      [3, { choices: [32] }],
    ]);
    const result = grade(qs, answers, 66);
    assert.equal(result.score, 66.67);
    assert.equal(result.points, 2);
    assert.equal(result.max_points, 3);
    assert.equal(result.passed, true);
    assert.equal(grade(qs, answers, 67).passed, false);
    assert.equal(grade(qs, answers, 66.67).passed, true);
    assert.deepEqual(
      result.results.map((r) => [r.question, r.correct, r.points]),
      [
        [1, true, 1],
        [2, true, 1],
        [3, false, 0],
      ],
    );
    assert.deepEqual(result.results[2]?.correct_choices, [31]);
  });

  it('weighs by points and passes a pass mark of 0 with nothing right, 100 only with everything', () => {
    const qs = [
      question('true_false', { id: 1, points: 3, choices: choices(true, false) }),
      question('short_text', { id: 2, points: 1, accepted_answers: ['x'] }),
    ];
    assert.equal(grade(qs, new Map([[1, { choices: [1] }]]), 70).score, 75);
    assert.equal(grade(qs, new Map(), 0).passed, true);
    assert.equal(grade(qs, new Map([[1, { choices: [1] }]]), 100).passed, false);
    assert.equal(
      grade(
        qs,
        new Map<number, GivenAnswer>([
          [1, { choices: [1] }],
          [2, { text: 'X' }],
        ]),
        100,
      ).passed,
      true,
    );
  });

  it('percent rounds to two places on integers', () => {
    assert.deepEqual([percent(1, 3), percent(2, 3), percent(1, 7), percent(0, 5), percent(5, 5)], [33.33, 66.67, 14.29, 0, 100]);
  });
});

describe('quiz policy', () => {
  const table: [Parameters<typeof revealsAnswers>[0], boolean, boolean, boolean][] = [
    // rule, author, passed → reveal
    ['always', false, false, true],
    ['after_pass', false, false, false],
    ['after_pass', false, true, true],
    ['never', false, true, false],
    ['never', true, false, true],
    ['after_pass', true, false, true],
  ];
  for (const [rule, isAuthor, hasPassed, expected] of table) {
    it(`reveal ${rule}, author ${isAuthor}, passed ${hasPassed} → ${expected}`, () =>
      assert.equal(revealsAnswers(rule, { isAuthor, hasPassed }), expected));
  }
  it('attempts left', () => {
    assert.equal(attemptsLeft(null, 9), null);
    assert.equal(attemptsLeft(3, 1), 2);
    assert.equal(attemptsLeft(3, 5), 0);
  });
});
