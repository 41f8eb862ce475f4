-- DO NOT EDIT. The tables of review schema version 1 (metapool 0.1.0), sqlite DDL, as
-- metapool.review.schema created them; tests/test_review_store.py opens a database made by it
-- to check that a newer metapool opens an older review.

CREATE TABLE events (
	id INTEGER NOT NULL,
	kind TEXT NOT NULL,
	payload JSON NOT NULL,
	undoes INTEGER,
	who TEXT NOT NULL,
	at DATETIME NOT NULL,
	PRIMARY KEY (id),
	FOREIGN KEY(undoes) REFERENCES events (id)
);

CREATE TABLE schema_version (
	version INTEGER NOT NULL,
	applied_at DATETIME NOT NULL,
	metapool_version TEXT NOT NULL,
	PRIMARY KEY (version)
);

CREATE TABLE sources (
	id INTEGER NOT NULL,
	file_name TEXT NOT NULL,
	sha256 VARCHAR(64) NOT NULL,
	format TEXT NOT NULL,
	encoding TEXT NOT NULL,
	"database" TEXT NOT NULL,
	searched DATE NOT NULL,
	record_count INTEGER NOT NULL,
	event_id INTEGER NOT NULL,
	who TEXT NOT NULL,
	at DATETIME NOT NULL,
	PRIMARY KEY (id),
	UNIQUE (sha256),
	FOREIGN KEY(event_id) REFERENCES events (id)
);

CREATE TABLE records (
	id INTEGER NOT NULL,
	source_id INTEGER NOT NULL,
	position INTEGER NOT NULL,
	record_id TEXT,
	title TEXT,
	abstract TEXT,
	authors JSON NOT NULL,
	year INTEGER,
	journal TEXT,
	volume TEXT,
	issue TEXT,
	pages TEXT,
	doi TEXT,
	pmid TEXT,
	issn TEXT,
	keywords JSON NOT NULL,
	language TEXT,
	publication_type TEXT,
	raw TEXT NOT NULL,
	PRIMARY KEY (id),
	CONSTRAINT uq_records_source_position UNIQUE (source_id, position),
	FOREIGN KEY(source_id) REFERENCES sources (id)
);

CREATE INDEX ix_records_doi ON records (doi);

CREATE INDEX ix_records_pmid ON records (pmid);

CREATE TABLE clusters (
	id INTEGER NOT NULL,
	kept_record INTEGER NOT NULL,
	method TEXT NOT NULL,
	evidence JSON NOT NULL,
	event_id INTEGER NOT NULL,
	undone_by INTEGER,
	PRIMARY KEY (id),
	FOREIGN KEY(kept_record) REFERENCES records (id),
	FOREIGN KEY(event_id) REFERENCES events (id),
	FOREIGN KEY(undone_by) REFERENCES events (id)
);

CREATE TABLE cluster_members (
	cluster_id INTEGER NOT NULL,
	record INTEGER NOT NULL,
	PRIMARY KEY (cluster_id, record),
	FOREIGN KEY(cluster_id) REFERENCES clusters (id),
	FOREIGN KEY(record) REFERENCES records (id)
);

CREATE TABLE decisions (
	id INTEGER NOT NULL,
	record INTEGER,
	cluster_id INTEGER,
	stage TEXT NOT NULL,
	reviewer TEXT NOT NULL,
	decision TEXT NOT NULL,
	reason TEXT,
	note TEXT,
	event_id INTEGER NOT NULL,
	superseded_by INTEGER,
	who TEXT NOT NULL,
	at DATETIME NOT NULL,
	PRIMARY KEY (id),
	CONSTRAINT ck_decisions_one_target CHECK ((record IS NULL) <> (cluster_id IS NULL)),
	FOREIGN KEY(record) REFERENCES records (id),
	FOREIGN KEY(cluster_id) REFERENCES clusters (id),
	FOREIGN KEY(event_id) REFERENCES events (id),
	FOREIGN KEY(superseded_by) REFERENCES decisions (id)
);
