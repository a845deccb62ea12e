// SPEC §8: one server-sent event stream. The browser's EventSource reconnects by itself and sends
// Last-Event-ID, so the server replays what was missed; only a stream the server refused (closed)
// is opened again here, later.

const streamUrl = '/api/subscriptions/stream?topics=events,loops';
const reopenAfterMs = 30_000;

/**
 * handlers: { event(recorded), loops(sequence or null), status('live' | 'reconnecting' | 'unavailable') }.
 * A loops message carries the sequence of the event that changed the loops as its id.
 */
export function subscribe(handlers) {
  const source = new EventSource(streamUrl);
  source.addEventListener('open', () => handlers.status('live'));
  source.addEventListener('event', (message) => handlers.event(JSON.parse(message.data)));
  source.addEventListener('loops', (message) => handlers.loops(message.lastEventId ? Number(message.lastEventId) : null));
  source.addEventListener('error', () => {
    if (source.readyState === EventSource.CLOSED) {
      handlers.status('unavailable');
      setTimeout(() => subscribe(handlers), reopenAfterMs);
    } else {
      handlers.status('reconnecting');
    }
  });
}
