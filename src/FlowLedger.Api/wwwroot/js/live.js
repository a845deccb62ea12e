// SPEC §8: one server-sent event stream. The browser's EventSource reconnects by itself and sends
// Last-Event-ID, so the server replays what was missed; only a stream the server refused (closed)
// is opened again here, later.

const streamUrl = '/api/subscriptions/stream?topics=events,loops';
const reopenAfterMs = 30_000;

/** handlers: { event(recorded), loops(), status('live' | 'reconnecting' | 'unavailable') }. */
export function subscribe(handlers) {
  const source = new EventSource(streamUrl);
  source.addEventListener('open', () => handlers.status('live'));
  source.addEventListener('event', (message) => handlers.event(JSON.parse(message.data)));
  source.addEventListener('loops', () => handlers.loops());
  source.addEventListener('error', () => {
    if (source.readyState === EventSource.CLOSED) {
      handlers.status('unavailable');
      setTimeout(() => subscribe(handlers), reopenAfterMs);
    } else {
      handlers.status('reconnecting');
    }
  });
}
