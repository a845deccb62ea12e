// SPEC §8: one server-sent event stream. It is read with fetch rather than EventSource, because
// EventSource cannot send the Authorization header a server with keys asks for. Like EventSource,
// it reconnects when the stream ends and sends Last-Event-ID, so the server replays what was missed.

import { authorization } from './access.js';

const streamUrl = '/api/subscriptions/stream?topics=events,loops';
// Until the server says otherwise with a retry field.
const reconnectAfterMs = 3_000;
const reopenRefusedAfterMs = 30_000;

const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Splits the stream's text into messages (the SSE wire format: `field: value` lines, a blank line
 * ends a message, lines starting with a colon are comments) and hands each to onMessage with the
 * last id seen so far, as EventSource's lastEventId.
 */
function messageReader(onMessage) {
  let buffer = '';
  let kind = 'message';
  let data = [];
  let lastEventId = null;
  let retryMs = reconnectAfterMs;
  return {
    get lastEventId() {
      return lastEventId;
    },
    get retryMs() {
      return retryMs;
    },
    push(text) {
      buffer += text;
      let end;
      while ((end = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, end).replace(/\r$/, '');
        buffer = buffer.slice(end + 1);
        if (line === '') {
          if (data.length > 0) {
            onMessage(kind, data.join('\n'), lastEventId);
          }
          kind = 'message';
          data = [];
          continue;
        }
        if (line.startsWith(':')) {
          continue;
        }
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') {
          kind = value;
        } else if (field === 'data') {
          data.push(value);
        } else if (field === 'id') {
          lastEventId = value;
        } else if (field === 'retry' && /^\d+$/.test(value)) {
          retryMs = Number(value);
        }
      }
    },
  };
}

/**
 * handlers: { event(recorded), loops(sequence or null), status('live' | 'reconnecting' | 'unavailable') }.
 * A loops message carries the sequence of the event that changed the loops as its id.
 */
export async function subscribe(handlers) {
  const reader = messageReader((kind, data, lastEventId) => {
    if (kind === 'event') {
      handlers.event(JSON.parse(data));
    } else if (kind === 'loops') {
      handlers.loops(lastEventId ? Number(lastEventId) : null);
    }
  });
  for (;;) {
    let waitMs = reader.retryMs;
    try {
      const resume = reader.lastEventId === null ? {} : { 'Last-Event-ID': reader.lastEventId };
      const response = await fetch(streamUrl, { headers: { Accept: 'text/event-stream', ...authorization(), ...resume } });
      if (response.ok) {
        handlers.status('live');
        const text = response.body.pipeThrough(new TextDecoderStream()).getReader();
        for (let chunk = await text.read(); !chunk.done; chunk = await text.read()) {
          reader.push(chunk.value);
        }
        handlers.status('reconnecting');
      } else {
        handlers.status('unavailable');
        waitMs = reopenRefusedAfterMs;
      }
    } catch {
      handlers.status('reconnecting');
    }
    await delay(waitMs);
  }
}
