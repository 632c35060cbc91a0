// The audit log's details in the reader's language. The hub writes each detail as short English
// phrases ("role agent, capacity 3", "name "A" → "B", sessions ended"); the console swaps the
// phrases it knows for the translated ones in audit.words, leaving quoted values (names people
// typed), addresses and numbers as they are. A detail it does not know stays as the hub wrote it.

/** words maps each phrase the hub writes (hub/accounts.go, sso.go, admin.go, routing_admin.go,
 * quickreplies.go, sessions.go, manage.go) to its key in audit.words. Longest first. */
export const words: Record<string, string> = {
  'through an invite link': 'viaInvite',
  'through a invite link': 'viaInvite',
  'through a reset link': 'viaReset',
  'new setup link': 'newLink',
  'sessions ended': 'sessionsEnded',
  'client secret changed': 'secretChanged',
  'role mapping changed': 'roleMapping',
  'password sign-in': 'passwordSignIn',
  'allowed domains': 'domains',
  'first sign-in': 'firstSignIn',
  'token for automation': 'automationToken',
  "the hub's default": 'hubDefault',
  'no change': 'noChange',
  'screen share': 'screenShare',
  'co-browse': 'cobrowse',
  'client id': 'clientId',
  capacity: 'capacity',
  language: 'language',
  region: 'region',
  calls: 'calls',
  issuer: 'issuer',
  enabled: 'enabled',
  email: 'email',
  name: 'name',
  role: 'role',
  session: 'session',
  queues: 'queues',
  skills: 'skills',
  created: 'created',
  changed: 'changed',
  default: 'default',
  saved: 'saved',
  removed: 'removed',
  answers: 'answers',
  agent: 'agent',
  supervisor: 'supervisor',
  admin: 'admin',
  password: 'password',
  sso: 'sso',
  token: 'token',
  app: 'app',
  console: 'console',
  cli: 'cli',
  none: 'none',
  true: 'yes',
  false: 'no',
  org: 'org',
  queue: 'queue',
};

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
// A phrase counts only as a whole: not inside a word, a host name, an address or a path.
const phrase = new RegExp(
  `(?<![\\w.:/@-])(${Object.keys(words).sort((a, b) => b.length - a.length).map(escape).join('|')})(?![\\w.:/@-])`,
  'g',
);
// Quoted values as Go's %q writes them.
const quoted = /"(?:[^"\\]|\\.)*"/g;

/** detailText returns the detail with the known phrases put through t (keys audit.words.*). */
export function detailText(detail: string, t: (key: string) => string): string {
  let out = '';
  let last = 0;
  const swap = (s: string) => s.replace(phrase, (w) => t(`audit.words.${words[w]}`));
  for (const m of detail.matchAll(quoted)) {
    out += swap(detail.slice(last, m.index)) + m[0];
    last = m.index! + m[0].length;
  }
  return out + swap(detail.slice(last));
}
