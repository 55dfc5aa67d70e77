/**
 * The Studio API from TypeScript, typed by the live schema.
 *
 * `clients/check` writes `generated/schema.d.ts` with openapi-typescript and
 * type-checks this file with `tsc --strict` (tsconfig.json). Requests go
 * through the platform's `fetch`; every body sent and read is typed by the
 * schema's `paths` and `components`:
 *
 * - an instructor signs in, creates a session and renames it with a PATCH
 *   that carries only the title (the description and the slots stay);
 * - a client books one of its slots, then books it again and reads the
 *   409 problem's `code` (`already_booked`).
 */
import type { components, paths } from "./generated/schema";

export type Problem = components["schemas"]["Problem"];
export type Session = components["schemas"]["Session"];
export type Booking = components["schemas"]["Booking"];

type Login = paths["/api/login/"]["post"];
type CreateSession = paths["/api/sessions/"]["post"];
type UpdateSession = paths["/api/sessions/{id}/"]["patch"];
type CreateBooking = paths["/api/bookings/"]["post"];

/** The JSON body a request of `Operation` sends. */
type RequestBody<Operation> = Operation extends {
  requestBody?: { content: { "application/json": infer Json } };
}
  ? Json
  : never;

/** The body of one documented answer, whatever its media type. */
type AnswerBody<Answer> = Answer extends { content: infer Content } ? Content[keyof Content] : never;

/** What came back: the success body, or the problem of a 4xx or 5xx answer. */
export type Outcome<Success> =
  | { ok: true; status: number; body: Success }
  | { ok: false; status: number; problem: Problem };

export interface Credentials {
  email: string;
  password: string;
}

async function send<Body, Success>(
  base: string,
  method: "POST" | "PATCH",
  path: string,
  body: Body,
  token?: string,
): Promise<Outcome<Success>> {
  const headers: Record<string, string> = { "Content-Type": "application/json" };
  if (token !== undefined) {
    headers["Authorization"] = `Bearer ${token}`;
  }
  const response = await fetch(new URL(path, base), {
    method,
    headers,
    body: JSON.stringify(body),
  });
  const json: unknown = await response.json();
  return response.ok
    ? { ok: true, status: response.status, body: json as Success }
    : { ok: false, status: response.status, problem: json as Problem };
}

function refused(what: string, outcome: { status: number; problem: Problem }): Error {
  return new Error(`${what}: ${outcome.status} ${outcome.problem.code}: ${outcome.problem.detail}`);
}

/** Signs in; the access token for `Authorization: Bearer`. */
export async function signIn(base: string, who: Credentials): Promise<string> {
  const body: RequestBody<Login> = { email: who.email, password: who.password };
  const outcome = await send<typeof body, AnswerBody<Login["responses"][200]>>(
    base,
    "POST",
    "/api/login/",
    body,
  );
  if (!outcome.ok) {
    throw refused("sign-in", outcome);
  }
  return outcome.body.access;
}

/** A yoga class with one one-hour slot for one person at `start`. */
export async function createSession(
  base: string,
  token: string,
  title: string,
  description: string,
  start: Date,
): Promise<Session> {
  const end = new Date(start.getTime() + 60 * 60 * 1000);
  const body: RequestBody<CreateSession> = {
    title,
    description,
    category: "yoga",
    time_slots: [{ start: start.toISOString(), end: end.toISOString(), capacity: 1 }],
  };
  const outcome = await send<typeof body, AnswerBody<CreateSession["responses"][201]>>(
    base,
    "POST",
    "/api/sessions/",
    body,
    token,
  );
  if (!outcome.ok) {
    throw refused("create session", outcome);
  }
  return outcome.body;
}

/** Renames a session: a PATCH with only the title; the rest of the session stays. */
export async function renameSession(
  base: string,
  token: string,
  id: number,
  title: string,
): Promise<Session> {
  const body: RequestBody<UpdateSession> = { title };
  const outcome = await send<typeof body, AnswerBody<UpdateSession["responses"][200]>>(
    base,
    "PATCH",
    `/api/sessions/${id}/`,
    body,
    token,
  );
  if (!outcome.ok) {
    throw refused("rename session", outcome);
  }
  return outcome.body;
}

/** Books a time slot: the booking, or why not (the problem of the answer). */
export async function book(
  base: string,
  token: string,
  timeSlot: number,
): Promise<Outcome<Booking>> {
  const body: RequestBody<CreateBooking> = { time_slot: timeSlot };
  return send<typeof body, AnswerBody<CreateBooking["responses"][201]>>(
    base,
    "POST",
    "/api/bookings/",
    body,
    token,
  );
}

/** The `code` of a 409 answer to a booking (`slot_full`, `already_booked`, ...), else null. */
export function conflictCode(outcome: Outcome<Booking>): string | null {
  if (outcome.ok || outcome.status !== 409) {
    return null;
  }
  // The schema's 409 body of POST /api/bookings/ is the Problem component.
  const conflict: AnswerBody<CreateBooking["responses"][409]> = outcome.problem;
  const problem: Problem = conflict;
  return problem.code;
}

/** The whole walk: rename keeps the description; a second booking is a 409 `already_booked`. */
export async function main(
  base: string,
  instructor: Credentials,
  client: Credentials,
): Promise<string> {
  const teacher = await signIn(base, instructor);
  const start = new Date(Date.now() + 2 * 24 * 60 * 60 * 1000);
  const session = await createSession(base, teacher, "Evening Yoga", "Slow flow", start);
  const renamed = await renameSession(base, teacher, session.id, "Evening Yoga, gently");
  if (renamed.description !== session.description) {
    throw new Error(`the rename changed the description to ${JSON.stringify(renamed.description)}`);
  }
  const slot = session.time_slots[0];
  if (slot === undefined) {
    throw new Error("the new session has no slot");
  }
  const learner = await signIn(base, client);
  const first = await book(base, learner, slot.id);
  if (!first.ok) {
    throw refused("book", first);
  }
  const code = conflictCode(await book(base, learner, slot.id));
  if (code !== "already_booked") {
    throw new Error(`booking twice: expected a 409 already_booked, got ${String(code)}`);
  }
  return code;
}
