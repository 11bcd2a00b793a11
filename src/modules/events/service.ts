import { randomBytes } from 'node:crypto';
import type { Executor } from '../../db/query.js';
import { nowIso } from '../../shared/time.js';
import * as repo from './repository.js';

export const EVENT_TYPES = [
  'enrollment.created',
  'enrollment.deleted',
  'lesson.completed',
  'course.completed',
  'quiz.attempted',
  'certificate.issued',
  'review.created',
  'review.updated',
  'review.deleted',
  'course.published',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/**
 * A domain event. `data` holds ids and public fields only (never an email, a token or a
 * correct answer): it is sent as is to webhook receivers. `courseId` names the course the
 * event concerns, so an instructor's endpoints receive their own courses' events.
 */
export interface DomainEvent {
  type: EventType;
  data: Record<string, unknown>;
  courseId: number | null;
}

export type EventsService = ReturnType<typeof createEventsService>;

export function createEventsService() {
  // Set by record(): the delivery worker is woken after a request that recorded an event.
  let recorded = false;
  return {
    /** Whether an event was recorded since the last call (a hint to wake the delivery worker). */
    takeRecorded(): boolean {
      const was = recorded;
      recorded = false;
      return was;
    },

    /**
     * Records the event in the outbox, inside the transaction of the change it describes:
     * a rolled-back change leaves no event, a committed one is never lost. One call per
     * change. Returns the event id (the `webhook-id` its deliveries carry).
     */
    async record(trx: Executor, event: DomainEvent): Promise<string> {
      const id = `evt_${randomBytes(16).toString('base64url')}`;
      await repo.insertEvent(trx, {
        id,
        type: event.type,
        data: JSON.stringify(event.data),
        course_id: event.courseId,
        created_at: nowIso(),
        dispatched_at: null,
      });
      recorded = true;
      return id;
    },
  };
}
