// One search, whoever asks: the command line and the API both parse the officer's words here, ask the store,
// fold and rank the page into cards, mark near matches, say what is close when nothing matches, and write the
// audit line. They differ only in how they print the answer.
import type { AuditLog } from '../audit/audit-log.js';
import type { SearchFilter, SearchPage, SearchPageOptions } from '../contract/search.js';
import type { SearchResultJson } from '../contract/types.js';
import type { EventQueries } from '../events/event-queries.js';
import { eventJson } from '../events/event-json.js';
import type { StoredEvent } from '../events/store.js';
import { parseQuery, type Place } from './query-parser.js';
import { relaxations, type RelaxationKind } from './relaxations.js';
import { groupResults } from './result-groups.js';
import { exactMatchesFirst, nearMatches } from './search.js';

/** What the parser needs of the site; read at every search (a config reload may change it). */
export interface SearchContext {
  timeZone: string;
  places: Place[];
  windowMinutes: number;
}

export interface Asker {
  who: string;
  via: 'cli' | 'api';
  from?: string;
}

export interface SearchHit {
  event: StoredEvent;
  /** The events folded into this card (the track's plate readings, repeats). */
  also: StoredEvent[];
  /** Conditions met only approximately, e.g. ['plate'], ['label', 'colour'] or ['rider-colour'] (see nearMatches); ranked below exact ones. */
  nearMatch: string[];
}

export interface SearchAnswer {
  query: string;
  filter: SearchFilter;
  hits: SearchHit[];
  next?: string;
  /** When a first page found nothing: the same filter loosened one way, with how many each finds (up to 100). */
  suggestions?: Array<{ change: RelaxationKind; filter: SearchFilter; count: number }>;
}

/** The answer as JSON, the same from the API and `vigil search --json`: the bus's event JSON, per card. */
export function searchAnswerJson(answer: SearchAnswer): SearchResultJson {
  return {
    query: answer.query,
    filter: answer.filter,
    events: answer.hits.map((hit) => ({
      ...eventJson(hit.event),
      sightings: 1 + hit.also.length,
      ...(hit.also.length ? { also: hit.also.map((e) => e.id) } : {}),
      near_match: hit.nearMatch,
    })),
    ...(answer.next ? { next: answer.next } : {}),
    ...(answer.suggestions ? { suggestions: answer.suggestions } : {}),
  };
}

const SUGGESTIONS = 4;
const SUGGESTION_COUNT_LIMIT = 100;

export class SearchService {
  constructor(
    private readonly store: EventQueries,
    private readonly audit: AuditLog,
    private readonly context: () => SearchContext,
  ) {}

  parse(text: string, now = new Date()): SearchFilter {
    return parseQuery(text, { now, ...this.context() });
  }

  /** The officer's search, in words or as a filter the page edited. */
  async search(asker: Asker, request: { text: string; filter?: SearchFilter }, page: SearchPageOptions): Promise<SearchAnswer> {
    const filter = request.filter ?? this.parse(request.text);
    const found = await this.store.searchEvents(filter, { ...page, order: 'closest' });
    const around = filter.time?.around ? Date.parse(filter.time.around) : undefined;
    // Exact matches first within the page, near matches (a plate one character off, a truck for a car, grey for
    // white, a rider's clothing) below.
    const hits = exactMatchesFirst(groupResults(found.events, around).map((g) => ({ event: g.event, also: g.also, nearMatch: nearMatches(g.event, filter) })));
    const answer: SearchAnswer = { query: request.text, filter, hits, ...(found.next ? { next: found.next } : {}) };
    // Only a first page that found nothing asks what is close: a few index lookups.
    if (hits.length === 0 && !page.cursor) {
      const counted = await Promise.all(
        relaxations(filter).map(async (r) => ({ change: r.change, filter: r.filter, count: (await this.store.searchEvents(r.filter, { limit: SUGGESTION_COUNT_LIMIT, order: 'newest' })).events.length })),
      );
      answer.suggestions = counted.filter((r) => r.count > 0).slice(0, SUGGESTIONS);
    }
    this.audit.write({ ...asker, query: request.text, ...(request.filter ? { filter: request.filter } : {}), results: hits.length });
    return answer;
  }

  /** Events by field, newest first, each on its own (a listing, not an officer's search). */
  async list(asker: Asker, filter: SearchFilter, page: SearchPageOptions, description: string): Promise<SearchPage<StoredEvent>> {
    const found = await this.store.searchEvents(filter, { ...page, order: 'newest' });
    this.audit.write({ ...asker, query: description, results: found.events.length });
    return found;
  }
}
