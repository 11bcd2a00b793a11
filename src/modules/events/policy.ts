import type { Role } from '../../db/types.js';

export interface EndpointViewer {
  id: number;
  role: Role;
}

/** An endpoint is its creator's and every admin's; anyone else is told it does not exist (404). */
export function canManageEndpoint(viewer: EndpointViewer, endpoint: { owner_id: number }): boolean {
  return viewer.role === 'admin' || viewer.id === endpoint.owner_id;
}

/** Who may register an endpoint: admins and approved instructors (as the database says now). */
export function endpointCreationDenial(role: Role, instructorStatus: string): string | null {
  if (role === 'admin') return null;
  if (role === 'instructor' && instructorStatus === 'approved') return null;
  if (role === 'instructor') return 'Your instructor account is not approved.';
  return 'Only approved instructors and admins may register webhooks.';
}

/**
 * Whether an endpoint receives an event: it subscribes to the type (or to "*"), and its
 * owner is an admin (every event) or the instructor of the event's course.
 */
export function receives(
  endpoint: { owner_id: number; role: Role; events: readonly string[] },
  event: { type: string; courseOwnerId: number | undefined },
): boolean {
  if (!endpoint.events.includes('*') && !endpoint.events.includes(event.type)) return false;
  return endpoint.role === 'admin' || (event.courseOwnerId !== undefined && event.courseOwnerId === endpoint.owner_id);
}
