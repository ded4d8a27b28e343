import GRDB

extension SQLiteArticleStore {
    /// The schema, as GRDB migrations applied when the store opens for writing. Append new
    /// migrations; never edit a shipped one.
    ///
    /// - `articles`: one row per canonical URL (the fetched URL when there is none), the latest
    ///   version's fields. The enrichment columns are NULL for an article that was only parsed.
    ///   `fingerprint` is ``ContentFingerprint`` of title and text, which decides whether a
    ///   delivery is a new version; `content_hash` is enrich's SHA-256 when it came with one;
    ///   `lead_image` (added by migration v3) the picture the page declares for itself.
    /// - `versions`: one row per version, version 1 included; `title` and `text` are NULL on the
    ///   current version's row (they are the article's, kept once) and filled in when a newer
    ///   version replaces it. The view `version_texts` gives every version with its title and
    ///   text.
    /// - `entities`, `keywords`, `links` (`kind` = `related` or `outlink`): the latest version's.
    /// - `failures`: error records that reached the store, once per message id.
    /// - `articles_fts`: a contentless FTS5 table over the *folded* title and text
    ///   (``TextFolding``), rowid = `articles.id`, kept in step in the same transaction.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: articles, versions, entities, keywords, links, failures, fts") { db in
            try db.execute(sql: """
                CREATE TABLE articles (
                    id INTEGER PRIMARY KEY,
                    canonical_url TEXT NOT NULL UNIQUE,
                    url TEXT NOT NULL,
                    title TEXT NOT NULL,
                    byline TEXT,
                    published_at TEXT,
                    updated_at TEXT,
                    description TEXT,
                    site_name TEXT,
                    lang TEXT,
                    kind TEXT NOT NULL DEFAULT 'article',
                    text TEXT NOT NULL,
                    images TEXT,
                    language TEXT,
                    language_confidence REAL,
                    summary TEXT,
                    word_count INTEGER,
                    reading_time_s INTEGER,
                    simhash TEXT,
                    quotes TEXT,
                    content_hash TEXT NOT NULL,
                    fingerprint TEXT NOT NULL,
                    first_seen TEXT NOT NULL,
                    last_seen TEXT NOT NULL,
                    version INTEGER NOT NULL
                );
                CREATE INDEX articles_url ON articles(url);
                CREATE INDEX articles_published_at ON articles(published_at);

                CREATE TABLE versions (
                    article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
                    version INTEGER NOT NULL,
                    content_hash TEXT NOT NULL,
                    fingerprint TEXT NOT NULL,
                    title TEXT NOT NULL,
                    text TEXT NOT NULL,
                    stored_at TEXT NOT NULL,
                    PRIMARY KEY (article_id, version)
                );
                CREATE INDEX versions_fingerprint ON versions(article_id, fingerprint);

                CREATE TABLE entities (
                    article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
                    text TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    count INTEGER NOT NULL,
                    first INTEGER NOT NULL
                );
                CREATE INDEX entities_article ON entities(article_id);
                CREATE INDEX entities_text ON entities(text);

                CREATE TABLE keywords (
                    article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
                    position INTEGER NOT NULL,
                    keyword TEXT NOT NULL,
                    PRIMARY KEY (article_id, position)
                );
                CREATE INDEX keywords_keyword ON keywords(keyword);

                CREATE TABLE links (
                    article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
                    kind TEXT NOT NULL CHECK (kind IN ('related', 'outlink')),
                    position INTEGER NOT NULL,
                    title TEXT,
                    url TEXT NOT NULL,
                    PRIMARY KEY (article_id, kind, position)
                );
                CREATE INDEX links_url ON links(url);

                CREATE TABLE failures (
                    id INTEGER PRIMARY KEY,
                    message_id TEXT NOT NULL UNIQUE,
                    received_at TEXT NOT NULL,
                    code INTEGER NOT NULL,
                    status TEXT NOT NULL,
                    message TEXT NOT NULL,
                    stage TEXT NOT NULL,
                    attempt INTEGER NOT NULL,
                    url TEXT,
                    original TEXT,
                    raw TEXT
                );
                CREATE INDEX failures_url ON failures(url);

                CREATE VIRTUAL TABLE articles_fts USING fts5(
                    title, text, content='', tokenize='unicode61 remove_diacritics 2'
                );
                """)
        }
        // The current version's title and text were kept twice, in `articles` and `versions`:
        // about a third of what the store wrote to SQLite and the disk (issue 14).
        migrator.registerMigration("v2: a version keeps its title and text once it is superseded") { db in
            try db.execute(sql: """
                CREATE TABLE versions_v2 (
                    article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
                    version INTEGER NOT NULL,
                    content_hash TEXT NOT NULL,
                    fingerprint TEXT NOT NULL,
                    title TEXT,
                    text TEXT,
                    stored_at TEXT NOT NULL,
                    PRIMARY KEY (article_id, version)
                );
                INSERT INTO versions_v2
                    SELECT v.article_id, v.version, v.content_hash, v.fingerprint,
                        CASE WHEN v.version = a.version THEN NULL ELSE v.title END,
                        CASE WHEN v.version = a.version THEN NULL ELSE v.text END,
                        v.stored_at
                    FROM versions v LEFT JOIN articles a ON a.id = v.article_id;
                DROP TABLE versions;
                ALTER TABLE versions_v2 RENAME TO versions;
                CREATE INDEX versions_fingerprint ON versions(article_id, fingerprint);

                CREATE VIEW version_texts AS
                    SELECT v.article_id, v.version, v.content_hash, v.fingerprint,
                        coalesce(v.title, a.title) AS title, coalesce(v.text, a.text) AS text, v.stored_at
                    FROM versions v JOIN articles a ON a.id = v.article_id;
                """)
        }
        // `article.parsed` carries `lead_image` (the page's own picture); stores before v3 dropped it.
        migrator.registerMigration("v3: articles keep their lead image") { db in
            try db.execute(sql: "ALTER TABLE articles ADD COLUMN lead_image TEXT")
        }
        return migrator
    }

    /// Re-indexes every article when the index was built with another ``TextFolding/version``
    /// (kept in `PRAGMA user_version`, which GRDB's migrations leave alone). A new store only
    /// records the version.
    static func rebuildIndexIfFoldingChanged(_ db: Database) throws {
        let indexed = try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0
        guard indexed != TextFolding.version else { return }
        try db.execute(sql: "INSERT INTO articles_fts (articles_fts) VALUES ('delete-all')")
        let rows = try Row.fetchCursor(db, sql: "SELECT id, title, text FROM articles")
        while let row = try rows.next() {
            try indexText(id: row["id"], title: row["title"], text: row["text"], in: db)
        }
        try db.execute(sql: "PRAGMA user_version = \(TextFolding.version)")
    }
}
