import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildTestApp } from '../helpers/app.js';
import type { TestApp } from '../helpers/app.js';
import type { TestUser } from '../helpers/factories.js';
import { createStudent, createCourse } from '../helpers/factories.js';
import { call } from '../helpers/http.js';
import { enrollViaApi, completeLessonViaApi } from '../helpers/actions.js';

/**
 * progress = 100 × completed ÷ current lessons (2 places, 0 without lessons), and
 * completed_at set the first time it reaches 100 and kept. Lessons are added and removed
 * through the lessons endpoints, so the recount they trigger is the one under test.
 */
describe('progress table', () => {
  let app: TestApp;
  before(async () => {
    app = await buildTestApp();
  });
  after(() => app.close());

  it('follows completions, lessons added and removed, and unenroll/re-enroll, for every enrolled student', async () => {
    const course = await createCourse(app);
    const owner = course.owner;
    const ann = await createStudent(app);
    const bob = await createStudent(app);
    const lessons: number[] = [];

    const addLesson = async () => {
      const res = await call(app, 'POST', '/api/lessons/', {
        as: owner,
        body: { course: course.id, title: `Lesson ${lessons.length + 1}` },
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      lessons.push(res.body.id);
      return res.body.id as number;
    };
    const removeLesson = async (id: number) => {
      assert.equal((await call(app, 'DELETE', `/api/lessons/${id}/`, { as: owner })).status, 204);
      lessons.splice(lessons.indexOf(id), 1);
    };
    const complete = async (student: TestUser, id: number) => assert.equal((await completeLessonViaApi(app, student, id)).status, 200);
    const progressOf = async (student: TestUser) => {
      const res = await call(app, 'GET', `/api/my-progress/${course.id}/`, { as: student });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const { progress, completed_lessons, total_lessons, completed_at } = res.body;
      assert.equal(res.body.lessons.length, total_lessons);
      assert.equal(res.body.lessons.filter((l: { completed: boolean }) => l.completed).length, completed_lessons);
      return { progress, completed_lessons, total_lessons, completed_at: completed_at as string | null };
    };

    let annCompletedAt: string | null = null;
    let bobCompletedAt: string | null = null;
    const steps: {
      name: string;
      act: () => Promise<unknown>;
      ann: [number, number, number, 'null' | 'set' | 'kept'];
      bob: [number, number, number, 'null' | 'set' | 'kept'];
    }[] = [
      { name: 'enrolled, course without lessons', act: async () => {}, ann: [0, 0, 0, 'null'], bob: [0, 0, 0, 'null'] },
      {
        name: 'three lessons added',
        act: async () => {
          await addLesson();
          await addLesson();
          await addLesson();
        },
        ann: [0, 0, 3, 'null'],
        bob: [0, 0, 3, 'null'],
      },
      { name: 'ann completes 1 of 3', act: () => complete(ann, lessons[0]!), ann: [33.33, 1, 3, 'null'], bob: [0, 0, 3, 'null'] },
      { name: 'ann completes 2 of 3', act: () => complete(ann, lessons[1]!), ann: [66.67, 2, 3, 'null'], bob: [0, 0, 3, 'null'] },
      {
        name: 'bob completes 2 of 3',
        act: async () => {
          await complete(bob, lessons[0]!);
          await complete(bob, lessons[1]!);
        },
        ann: [66.67, 2, 3, 'null'],
        bob: [66.67, 2, 3, 'null'],
      },
      { name: 'ann completes 3 of 3', act: () => complete(ann, lessons[2]!), ann: [100, 3, 3, 'set'], bob: [66.67, 2, 3, 'null'] },
      { name: 'lesson added after completion', act: addLesson, ann: [75, 3, 4, 'kept'], bob: [50, 2, 4, 'null'] },
      { name: 'uncompleted lesson removed', act: () => removeLesson(lessons[3]!), ann: [100, 3, 3, 'kept'], bob: [66.67, 2, 3, 'null'] },
      // Bob reaches 100 without completing anything: the lesson he had not done goes.
      { name: 'lesson bob had not done removed', act: () => removeLesson(lessons[2]!), ann: [100, 2, 2, 'kept'], bob: [100, 2, 2, 'set'] },
      { name: 'completed lesson removed', act: () => removeLesson(lessons[0]!), ann: [100, 1, 1, 'kept'], bob: [100, 1, 1, 'kept'] },
      {
        name: 'two lessons added',
        act: async () => {
          await addLesson();
          await addLesson();
        },
        ann: [33.33, 1, 3, 'kept'],
        bob: [33.33, 1, 3, 'kept'],
      },
      {
        name: 'ann unenrolls and re-enrolls',
        act: async () => {
          assert.equal((await call(app, 'DELETE', `/api/enroll/${course.id}/`, { as: ann })).status, 204);
          assert.equal((await enrollViaApi(app, ann, course.id)).status, 201);
          annCompletedAt = null;
        },
        ann: [0, 0, 3, 'null'],
        bob: [33.33, 1, 3, 'kept'],
      },
      { name: 'ann completes 1 of 3 again', act: () => complete(ann, lessons[1]!), ann: [33.33, 1, 3, 'null'], bob: [33.33, 1, 3, 'kept'] },
      {
        name: 'every lesson removed',
        act: async () => {
          for (const id of [...lessons]) await removeLesson(id);
        },
        ann: [0, 0, 0, 'null'],
        bob: [0, 0, 0, 'kept'],
      },
    ];

    assert.equal((await enrollViaApi(app, ann, course.id)).status, 201);
    assert.equal((await enrollViaApi(app, bob, course.id)).status, 201);
    for (const step of steps) {
      await step.act();
      for (const [who, student, expected] of [
        ['ann', ann, step.ann],
        ['bob', bob, step.bob],
      ] as const) {
        const actual = await progressOf(student);
        const [progress, completed, total, when] = expected;
        const label = `${step.name}: ${who}`;
        assert.deepEqual([actual.progress, actual.completed_lessons, actual.total_lessons], [progress, completed, total], label);
        const previous: string | null = who === 'ann' ? annCompletedAt : bobCompletedAt;
        if (when === 'null') assert.equal(actual.completed_at, null, label);
        if (when === 'set') {
          assert.ok(actual.completed_at !== null && previous === null, label);
          if (who === 'ann') annCompletedAt = actual.completed_at;
          else bobCompletedAt = actual.completed_at;
        }
        if (when === 'kept') assert.equal(actual.completed_at, previous, label);
      }
    }
    // The list view agrees with the detail view.
    const listed = await call(app, 'GET', '/api/my-progress/', { as: bob });
    assert.deepEqual(
      (({ progress, completed_lessons, total_lessons, completed_at }) => ({ progress, completed_lessons, total_lessons, completed_at }))(
        listed.body.results[0],
      ),
      { progress: 0, completed_lessons: 0, total_lessons: 0, completed_at: bobCompletedAt },
    );
  });
});
