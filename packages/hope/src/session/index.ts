/** HopeSession: continual learning, rollback, freezing and state files over a HopeLM. */
export { HopeSession, type FeedResult, type SessionSnapshot, type SessionTokenizer } from './session.js';
export { SessionStateError, STATE_FORMAT, type SessionMeta } from './state-file.js';
