import type { QuizKind } from '../../db/types.js';

/**
 * Grading: a pure function of the quiz as it is when the attempt is submitted and the
 * answers given. No database, no clock: unit-tested as a table per question kind.
 */

export interface GradedQuestion {
  id: number;
  kind: QuizKind;
  points: number;
  choices: { id: number; correct: boolean }[];
  accepted_answers: string[];
  explanation: string;
}

/** One answer, already checked to belong to its question (see validateAnswers in the service). */
export type GivenAnswer = { choices: number[] } | { text: string };

/**
 * A graded question. `correct`, `points` are the student's; `correct_choices`,
 * `accepted_answers` and `explanation` are what was right when graded, kept with the attempt
 * and shown only as the quiz's reveal rule allows.
 */
export interface QuestionResult {
  question: number;
  correct: boolean;
  points: number;
  correct_choices: number[];
  accepted_answers: string[];
  explanation: string;
}

export interface Grade {
  /** Percent of points, 2 places. */
  score: number;
  passed: boolean;
  points: number;
  max_points: number;
  results: QuestionResult[];
}

/** Trimmed, case-insensitive, in one Unicode form (NFC): "Αθήνα" and " αθήνα " match. */
export const normalizeText = (text: string): string => text.normalize('NFC').trim().toLowerCase();

function isCorrect(question: GradedQuestion, answer: GivenAnswer | undefined): boolean {
  if (answer === undefined) return false;
  if (question.kind === 'short_text') {
    if (!('text' in answer)) return false;
    const given = normalizeText(answer.text);
    return given !== '' && question.accepted_answers.some((accepted) => normalizeText(accepted) === given);
  }
  if (!('choices' in answer)) return false;
  // single and true_false: the one correct choice; multiple: exactly the correct set.
  const expected = new Set(question.choices.filter((c) => c.correct).map((c) => c.id));
  const given = new Set(answer.choices);
  return given.size === expected.size && [...given].every((id) => expected.has(id));
}

/** Percent of points with 2 places, computed on integers so 2 of 3 is 66.67, never 66.66999. */
export function percent(points: number, maxPoints: number): number {
  return maxPoints === 0 ? 0 : Math.round((points * 10_000) / maxPoints) / 100;
}

export function grade(questions: GradedQuestion[], answers: Map<number, GivenAnswer>, passMark: number): Grade {
  let points = 0;
  let maxPoints = 0;
  const results = questions.map((question): QuestionResult => {
    const correct = isCorrect(question, answers.get(question.id));
    const earned = correct ? question.points : 0;
    points += earned;
    maxPoints += question.points;
    return {
      question: question.id,
      correct,
      points: earned,
      correct_choices: question.choices.filter((c) => c.correct).map((c) => c.id),
      accepted_answers: question.accepted_answers,
      explanation: question.explanation,
    };
  });
  const score = percent(points, maxPoints);
  return { score, passed: score >= passMark, points, max_points: maxPoints, results };
}
