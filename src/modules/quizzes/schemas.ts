import { Type } from 'typebox';
import type { Static } from 'typebox';
import { named } from '../../shared/openapi.js';
import { PageQuery } from '../../shared/pagination.js';
import { Id, Nullable } from '../../shared/schemas.js';
import { PublicUserSchema } from '../users/schemas.js';

/**
 * Two views of a quiz and of an attempt, each its own allow-list: the author view (owner,
 * admins) names what is correct; the student view has no `correct`, `accepted_answers` or
 * `explanation` at all, so serialization cannot send them even if a mapper tried.
 */

export const QUIZ_KINDS = ['single', 'multiple', 'true_false', 'short_text'] as const;
export const REVEAL_RULES = ['always', 'after_pass', 'never'] as const;
export const DEFAULT_PASS_MARK = 70;
export const DEFAULT_REVEAL = 'after_pass';
export const MAX_QUESTIONS = 100;
export const MAX_CHOICES = 20;
export const MAX_ACCEPTED_ANSWERS = 20;
export const MAX_PROMPT_LENGTH = 5000;
export const MAX_CHOICE_LENGTH = 1000;
export const MAX_ANSWER_LENGTH = 500;

const Kind = Type.Enum([...QUIZ_KINDS], {
  description:
    '`single` (exactly one correct choice), `multiple` (one or more), `true_false` (two choices, one correct), `short_text` (no choices; accepted_answers)',
});
const Reveal = Type.Enum([...REVEAL_RULES], { description: 'When a student sees the correct answers and explanations of their attempts' });
const passMark = (options: { default?: number } = {}) =>
  Type.Integer({ minimum: 0, maximum: 100, description: 'Percent of points needed to pass', ...options });
const MaxAttempts = Nullable(Type.Integer({ minimum: 1, maximum: 1000, description: 'null: unlimited' }));

// Author view.
export const QuizChoiceAuthorSchema = named(
  'QuizChoiceAuthor',
  Type.Object({ id: Type.Integer(), text: Type.String(), correct: Type.Boolean() }),
);
export const QuizQuestionAuthorSchema = named(
  'QuizQuestionAuthor',
  Type.Object({
    id: Type.Integer(),
    order: Type.Integer(),
    kind: Kind,
    prompt: Type.String(),
    points: Type.Integer(),
    choices: Type.Array(QuizChoiceAuthorSchema),
    accepted_answers: Type.Array(Type.String()),
    explanation: Type.String(),
  }),
);
const quizFields = {
  id: Type.Integer(),
  lesson: Type.Integer(),
  pass_mark: passMark(),
  max_attempts: MaxAttempts,
  reveal_answers: Reveal,
  updated_at: Type.String({ format: 'date-time' }),
};
export const QuizAuthorSchema = named('QuizAuthor', Type.Object({ ...quizFields, questions: Type.Array(QuizQuestionAuthorSchema) }));
export type QuizAuthor = Static<typeof QuizAuthorSchema>;

// Student view: no correct flags, accepted answers nor explanations.
export const QuizChoiceStudentSchema = named('QuizChoiceStudent', Type.Object({ id: Type.Integer(), text: Type.String() }));
export const QuizQuestionStudentSchema = named(
  'QuizQuestionStudent',
  Type.Object({
    id: Type.Integer(),
    order: Type.Integer(),
    kind: Kind,
    prompt: Type.String(),
    points: Type.Integer(),
    choices: Type.Array(QuizChoiceStudentSchema),
  }),
);
export const QuizStudentSchema = named(
  'QuizStudent',
  Type.Object({
    ...quizFields,
    questions: Type.Array(QuizQuestionStudentSchema),
    attempts_used: Type.Integer({ description: "The caller's attempts so far (0 when anonymous)" }),
    attempts_left: Nullable(Type.Integer({ description: 'null: unlimited' })),
  }),
);
export type QuizStudent = Static<typeof QuizStudentSchema>;

/**
 * One route answers with either view. The author view is listed first and requires what the
 * student view lacks, so the serializer picks it only for an author object.
 */
export const QuizViewSchema = Type.Union([QuizAuthorSchema, QuizStudentSchema]);

// The request: the whole quiz in one document.
export const QuizChoiceRequestSchema = named(
  'QuizChoiceRequest',
  Type.Object({
    text: Type.String({ minLength: 1, maxLength: MAX_CHOICE_LENGTH }),
    correct: Type.Optional(Type.Boolean({ default: false })),
  }),
);
export const QuizQuestionRequestSchema = named(
  'QuizQuestionRequest',
  Type.Object({
    kind: Kind,
    prompt: Type.String({ minLength: 1, maxLength: MAX_PROMPT_LENGTH }),
    points: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 1 })),
    choices: Type.Optional(Type.Array(QuizChoiceRequestSchema, { maxItems: MAX_CHOICES, description: 'Not for short_text' })),
    accepted_answers: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: MAX_ANSWER_LENGTH }), {
        maxItems: MAX_ACCEPTED_ANSWERS,
        description: 'short_text only: 1–20 strings, matched after trimming, case-insensitively',
      }),
    ),
    explanation: Type.Optional(Type.String({ maxLength: MAX_PROMPT_LENGTH, description: 'Shown to students as reveal_answers allows' })),
  }),
);
export const QuizRequestSchema = named(
  'QuizRequest',
  Type.Object(
    {
      pass_mark: Type.Optional(passMark({ default: DEFAULT_PASS_MARK })),
      // One schema with two types, not anyOf: with type coercion a 0 would otherwise pass as null.
      max_attempts: Type.Optional(
        Type.Unsafe<number | null>({ type: ['integer', 'null'], minimum: 1, maximum: 1000, description: 'null: unlimited (default)' }),
      ),
      reveal_answers: Type.Optional(Reveal),
      questions: Type.Array(QuizQuestionRequestSchema, {
        minItems: 1,
        maxItems: MAX_QUESTIONS,
        description:
          'In order; no ids. A problem with a question is a 400 naming its index (0-based): `{"questions": {"2": {"choices": ["..."]}}}`',
      }),
    },
    {
      description:
        'Replaces the whole quiz. Errors of a question are keyed by its index: `{"questions": {"<index>": {"<field>": ["message"]}}}`',
    },
  ),
);
export type QuizInput = Static<typeof QuizRequestSchema>;
export type QuizQuestionInput = Static<typeof QuizQuestionRequestSchema>;

// Attempts.
export const QuizAnswerRequestSchema = named(
  'QuizAnswerRequest',
  Type.Object({
    question: Id({ description: 'A question of this quiz, answered at most once' }),
    choices: Type.Optional(Type.Array(Id(), { maxItems: MAX_CHOICES, description: 'Choice ids of that question (choice questions)' })),
    text: Type.Optional(Type.String({ maxLength: MAX_ANSWER_LENGTH, description: 'The answer (short_text)' })),
  }),
);
export const QuizAttemptRequestSchema = named(
  'QuizAttemptRequest',
  Type.Object({
    answers: Type.Array(QuizAnswerRequestSchema, {
      maxItems: MAX_QUESTIONS,
      description:
        'Unanswered questions score 0. A problem with an answer is a 400 keyed by its index: `{"answers": {"1": {"choices": ["..."]}}}`',
    }),
  }),
);
export type QuizAttemptInput = Static<typeof QuizAttemptRequestSchema>;

export const QuizAttemptResultSchema = named(
  'QuizAttemptResult',
  Type.Object({
    question: Type.Integer(),
    correct: Type.Boolean({ description: "Whether the student's answer was right" }),
    points: Type.Integer(),
  }),
);
export const QuizAttemptRevealedResultSchema = named(
  'QuizAttemptRevealedResult',
  Type.Object({
    ...QuizAttemptResultSchema.properties,
    choices: Type.Array(Type.Integer(), { description: 'The correct choices (ids)' }),
    accepted_answers: Type.Array(Type.String()),
    explanation: Type.String(),
  }),
);
export const QuizAttemptSchema = named(
  'QuizAttempt',
  Type.Object({
    id: Type.Integer(),
    quiz: Type.Integer(),
    student: PublicUserSchema,
    score: Type.Number({ description: 'Percent of points, 2 places' }),
    passed: Type.Boolean({ description: 'score >= pass_mark' }),
    points: Type.Integer(),
    max_points: Type.Integer(),
    submitted_at: Type.String({ format: 'date-time' }),
    results: Type.Array(Type.Union([QuizAttemptRevealedResultSchema, QuizAttemptResultSchema]), {
      description:
        "With the correct choices, accepted answers and explanation as the quiz's reveal_answers allows (always for the owner and admins)",
    }),
  }),
);
export type QuizAttempt = Static<typeof QuizAttemptSchema>;

export const AttemptsQuery = Type.Object({
  ...PageQuery,
  student: Type.Optional(Id({ description: 'Owner and admins: the attempts of this student' })),
});
export type AttemptsQueryInput = Static<typeof AttemptsQuery>;

export const LessonIdParams = Type.Object({ id: Id() });
