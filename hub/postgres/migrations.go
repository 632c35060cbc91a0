package postgres

// migrations are applied in order, once each; the index + 1 is the schema version, and version N
// holds what hub/sqlite's migration N holds, in PostgreSQL's words: the same tables, columns and
// keys, so a database moves from one engine to the other table by table (hub/store's Copy).
// Times are Unix milliseconds in BIGINT columns, as the wire carries them. Never edit one that
// has shipped: add a new one, in both engines.
var migrations = []string{
	// 1: the foundation.
	`CREATE TABLE orgs (
		id         TEXT PRIMARY KEY,
		name       TEXT NOT NULL,
		created_at BIGINT NOT NULL
	);
	CREATE TABLE users (
		id            TEXT PRIMARY KEY,
		org           TEXT NOT NULL REFERENCES orgs(id),
		username      TEXT NOT NULL,
		display_name  TEXT NOT NULL,
		role          TEXT NOT NULL,
		password_hash TEXT NOT NULL,
		capacity      INTEGER NOT NULL,
		created_at    BIGINT NOT NULL,
		UNIQUE (org, username)
	);
	CREATE TABLE tokens (
		hash       TEXT PRIMARY KEY,
		org        TEXT NOT NULL REFERENCES orgs(id),
		role       TEXT NOT NULL,
		user_id    TEXT NOT NULL DEFAULT '',
		conv       TEXT NOT NULL DEFAULT '',
		expires_at BIGINT NOT NULL
	);
	CREATE INDEX tokens_expires ON tokens(expires_at);
	CREATE TABLE conversations (
		id            TEXT PRIMARY KEY,
		org           TEXT NOT NULL REFERENCES orgs(id),
		state         TEXT NOT NULL,
		customer_name TEXT NOT NULL,
		agent_id      TEXT NOT NULL DEFAULT '',
		agent_name    TEXT NOT NULL DEFAULT '',
		last_seq      BIGINT NOT NULL DEFAULT 0,
		created_at    BIGINT NOT NULL,
		accepted_at   BIGINT NOT NULL DEFAULT 0,
		ended_at      BIGINT NOT NULL DEFAULT 0,
		ended_by      TEXT NOT NULL DEFAULT ''
	);
	CREATE INDEX conversations_open ON conversations(state, created_at);
	CREATE TABLE messages (
		conv        TEXT NOT NULL REFERENCES conversations(id),
		seq         BIGINT NOT NULL,
		author      TEXT NOT NULL,
		author_name TEXT NOT NULL,
		text        TEXT NOT NULL,
		client_id   TEXT,
		at          BIGINT NOT NULL,
		PRIMARY KEY (conv, seq)
	);
	CREATE UNIQUE INDEX messages_client_id ON messages(conv, client_id) WHERE client_id IS NOT NULL;
	CREATE TABLE receipts (
		conv TEXT NOT NULL REFERENCES conversations(id),
		"by" TEXT NOT NULL,
		kind TEXT NOT NULL,
		seq  BIGINT NOT NULL,
		PRIMARY KEY (conv, "by", kind)
	);`,
	// 2: organisation settings (the visual engagement providers, ...), one JSON value per key.
	`CREATE TABLE org_settings (
		org        TEXT NOT NULL REFERENCES orgs(id),
		key        TEXT NOT NULL,
		value      TEXT NOT NULL,
		updated_at BIGINT NOT NULL,
		PRIMARY KEY (org, key)
	);`,
	// 3: calls, organisation region and call setting, system line events.
	`CREATE TABLE calls (
		id          TEXT PRIMARY KEY,
		conv        TEXT NOT NULL REFERENCES conversations(id),
		org         TEXT NOT NULL REFERENCES orgs(id),
		agent_id    TEXT NOT NULL,
		kind        TEXT NOT NULL,
		state       TEXT NOT NULL,
		outcome     TEXT NOT NULL DEFAULT '',
		reason      TEXT NOT NULL DEFAULT '',
		ended_by    TEXT NOT NULL DEFAULT '',
		created_at  BIGINT NOT NULL,
		answered_at BIGINT NOT NULL DEFAULT 0,
		ended_at    BIGINT NOT NULL DEFAULT 0
	);
	CREATE INDEX calls_conv ON calls(conv, created_at);
	CREATE INDEX calls_org_ended ON calls(org, ended_at);
	CREATE INDEX conversations_org_ended ON conversations(org, ended_at);
	ALTER TABLE orgs ADD COLUMN region TEXT NOT NULL DEFAULT '';
	ALTER TABLE orgs ADD COLUMN calls TEXT NOT NULL DEFAULT 'voice_video';
	ALTER TABLE messages ADD COLUMN event TEXT;`,
	// 4: accounts: members' email, disabled flag and identity-provider link, sessions' ids, setup
	// links, the audit log, single sign-on grants.
	`ALTER TABLE users ADD COLUMN email TEXT NOT NULL DEFAULT '';
	ALTER TABLE users ADD COLUMN disabled BOOLEAN NOT NULL DEFAULT false;
	ALTER TABLE users ADD COLUMN external_id TEXT NOT NULL DEFAULT '';
	ALTER TABLE users ADD COLUMN last_signin_at BIGINT NOT NULL DEFAULT 0;
	CREATE UNIQUE INDEX users_external ON users(org, external_id) WHERE external_id != '';
	ALTER TABLE orgs ADD COLUMN language TEXT NOT NULL DEFAULT 'en';
	ALTER TABLE tokens ADD COLUMN id TEXT NOT NULL DEFAULT '';
	ALTER TABLE tokens ADD COLUMN created_at BIGINT NOT NULL DEFAULT 0;
	ALTER TABLE tokens ADD COLUMN addr TEXT NOT NULL DEFAULT '';
	ALTER TABLE tokens ADD COLUMN client TEXT NOT NULL DEFAULT '';
	ALTER TABLE tokens ADD COLUMN method TEXT NOT NULL DEFAULT '';
	UPDATE tokens SET id = 's_' || substr(hash, 1, 20) WHERE id = '';
	CREATE INDEX tokens_user ON tokens(user_id) WHERE user_id != '';
	CREATE INDEX tokens_conv ON tokens(conv) WHERE conv != '';
	CREATE TABLE setup_links (
		hash       TEXT PRIMARY KEY,
		org        TEXT NOT NULL REFERENCES orgs(id),
		user_id    TEXT NOT NULL REFERENCES users(id),
		purpose    TEXT NOT NULL,
		created_by TEXT NOT NULL DEFAULT '',
		created_at BIGINT NOT NULL,
		expires_at BIGINT NOT NULL,
		used_at    BIGINT NOT NULL DEFAULT 0
	);
	CREATE INDEX setup_links_user ON setup_links(user_id);
	CREATE TABLE audit (
		id         BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
		org        TEXT NOT NULL,
		at         BIGINT NOT NULL,
		actor      TEXT NOT NULL DEFAULT '',
		actor_name TEXT NOT NULL DEFAULT '',
		action     TEXT NOT NULL,
		target     TEXT NOT NULL DEFAULT '',
		detail     TEXT NOT NULL DEFAULT '',
		addr       TEXT NOT NULL DEFAULT ''
	);
	CREATE INDEX audit_org ON audit(org, id);
	CREATE TABLE grants (
		hash       TEXT PRIMARY KEY,
		kind       TEXT NOT NULL,
		org        TEXT NOT NULL,
		data       TEXT NOT NULL,
		expires_at BIGINT NOT NULL
	);
	CREATE INDEX grants_expires ON grants(expires_at);`,
	// 5: the customer's presence, the last activity, and why and how a conversation ended.
	`ALTER TABLE conversations ADD COLUMN customer TEXT NOT NULL DEFAULT '';
	ALTER TABLE conversations ADD COLUMN customer_since BIGINT NOT NULL DEFAULT 0;
	ALTER TABLE conversations ADD COLUMN activity_at BIGINT NOT NULL DEFAULT 0;
	ALTER TABLE conversations ADD COLUMN end_reason TEXT NOT NULL DEFAULT '';
	ALTER TABLE conversations ADD COLUMN outcome TEXT NOT NULL DEFAULT '';
	UPDATE conversations SET activity_at = COALESCE((SELECT MAX(at) FROM messages m
		WHERE m.conv = conversations.id AND m.author != 'system'), created_at);`,
	// 6: queues, members' queues and skills, quick replies, conversations' routing and queue
	// visits, who reads along, and internal messages.
	`CREATE TABLE queues (
		org        TEXT NOT NULL REFERENCES orgs(id),
		id         TEXT NOT NULL,
		position   INTEGER NOT NULL,
		is_default BOOLEAN NOT NULL DEFAULT false,
		settings   TEXT NOT NULL,
		PRIMARY KEY (org, id)
	);
	CREATE TABLE queue_members (
		org     TEXT NOT NULL REFERENCES orgs(id),
		queue   TEXT NOT NULL,
		user_id TEXT NOT NULL REFERENCES users(id),
		PRIMARY KEY (org, queue, user_id)
	);
	CREATE TABLE member_skills (
		org     TEXT NOT NULL REFERENCES orgs(id),
		user_id TEXT NOT NULL REFERENCES users(id),
		skill   TEXT NOT NULL,
		level   INTEGER NOT NULL,
		PRIMARY KEY (user_id, skill)
	);
	CREATE INDEX member_skills_org ON member_skills(org);
	CREATE TABLE quick_replies (
		id         TEXT PRIMARY KEY,
		org        TEXT NOT NULL REFERENCES orgs(id),
		scope      TEXT NOT NULL,
		queue      TEXT NOT NULL DEFAULT '',
		owner      TEXT NOT NULL DEFAULT '',
		shortcut   TEXT NOT NULL,
		text       TEXT NOT NULL,
		updated_at BIGINT NOT NULL
	);
	CREATE INDEX quick_replies_org ON quick_replies(org, shortcut);
	CREATE TABLE conv_routing (
		conv      TEXT PRIMARY KEY REFERENCES conversations(id),
		queue     TEXT NOT NULL,
		queued_at BIGINT NOT NULL,
		visit     INTEGER NOT NULL,
		message   BOOLEAN NOT NULL DEFAULT false,
		contact   TEXT NOT NULL DEFAULT '',
		skills    TEXT NOT NULL DEFAULT '',
		transfer  TEXT NOT NULL DEFAULT ''
	);
	CREATE TABLE queue_visits (
		conv              TEXT NOT NULL REFERENCES conversations(id),
		n                 INTEGER NOT NULL,
		org               TEXT NOT NULL REFERENCES orgs(id),
		queue             TEXT NOT NULL,
		entered_at        BIGINT NOT NULL,
		answered_at       BIGINT NOT NULL DEFAULT 0,
		first_response_at BIGINT NOT NULL DEFAULT 0,
		left_at           BIGINT NOT NULL DEFAULT 0,
		outcome           TEXT NOT NULL DEFAULT '',
		agent_id          TEXT NOT NULL DEFAULT '',
		message           BOOLEAN NOT NULL DEFAULT false,
		with_call         BOOLEAN NOT NULL DEFAULT false,
		PRIMARY KEY (conv, n)
	);
	CREATE INDEX queue_visits_org_entered ON queue_visits(org, entered_at);
	CREATE INDEX queue_visits_org_left ON queue_visits(org, left_at);
	CREATE TABLE consultants (
		conv    TEXT NOT NULL REFERENCES conversations(id),
		user_id TEXT NOT NULL REFERENCES users(id),
		PRIMARY KEY (conv, user_id)
	);
	ALTER TABLE messages ADD COLUMN internal BOOLEAN NOT NULL DEFAULT false;`,
	// 7: the agent's wrap-up of an ended conversation: outcome code, note, wrap-up time.
	`ALTER TABLE conversations ADD COLUMN wrap_code TEXT NOT NULL DEFAULT '';
	ALTER TABLE conversations ADD COLUMN wrap_note TEXT NOT NULL DEFAULT '';
	ALTER TABLE conversations ADD COLUMN wrap_ms BIGINT NOT NULL DEFAULT 0;`,
}
