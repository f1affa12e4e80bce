import Bowser from 'bowser';
import { BoundedMap } from '../bounded-map.js';

export interface ClientKind {
  browser: string | null;
  os: string | null;
  /** desktop, mobile, tablet, tv, bot or null when unknown. */
  device: string | null;
}

const BOTS = /bot|crawl|spider|slurp|headless|lighthouse|curl|wget|python-requests|httpclient/i;

/** Parses user agents (bowser), remembering the most recent ones: a site's traffic repeats a few hundred strings. */
export class UserAgentParser {
  private readonly cache = new BoundedMap<string, ClientKind>(10_000);

  parse(userAgent: string | undefined): ClientKind {
    if (!userAgent) return { browser: null, os: null, device: null };
    let kind = this.cache.get(userAgent);
    if (!kind) {
      kind = this.parseUncached(userAgent);
      this.cache.set(userAgent, kind);
    }
    return kind;
  }

  private parseUncached(userAgent: string): ClientKind {
    const parsed = Bowser.parse(userAgent.slice(0, 512));
    const device = BOTS.test(userAgent) ? 'bot' : (parsed.platform.type ?? null);
    return { browser: parsed.browser.name ?? null, os: parsed.os.name ?? null, device };
  }
}
