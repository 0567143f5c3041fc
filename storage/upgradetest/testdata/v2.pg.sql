--
-- PostgreSQL database dump
--

\restrict VFQv1V1fUX4lxnLCWhK2zkmHm9Q6sT4FnOX4WJ6tVuoKkj5asxXdbhp9gnsgntu

-- Dumped from database version 15.18 (Debian 15.18-0+deb12u1)
-- Dumped by pg_dump version 15.18 (Debian 15.18-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

SET default_tablespace = '';

--
-- Name: attachments; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.attachments (
    user_id bigint NOT NULL,
    message_id bigint NOT NULL,
    part text NOT NULL COLLATE pg_catalog."C",
    filename text NOT NULL,
    content_type text NOT NULL,
    size bigint NOT NULL,
    hash text NOT NULL
)
PARTITION BY HASH (user_id);


SET default_table_access_method = heap;

--
-- Name: attachments_p0; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.attachments_p0 (
    user_id bigint NOT NULL,
    message_id bigint NOT NULL,
    part text NOT NULL COLLATE pg_catalog."C",
    filename text NOT NULL,
    content_type text NOT NULL,
    size bigint NOT NULL,
    hash text NOT NULL
);


--
-- Name: attachments_p1; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.attachments_p1 (
    user_id bigint NOT NULL,
    message_id bigint NOT NULL,
    part text NOT NULL COLLATE pg_catalog."C",
    filename text NOT NULL,
    content_type text NOT NULL,
    size bigint NOT NULL,
    hash text NOT NULL
);


--
-- Name: attachments_p2; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.attachments_p2 (
    user_id bigint NOT NULL,
    message_id bigint NOT NULL,
    part text NOT NULL COLLATE pg_catalog."C",
    filename text NOT NULL,
    content_type text NOT NULL,
    size bigint NOT NULL,
    hash text NOT NULL
);


--
-- Name: attachments_p3; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.attachments_p3 (
    user_id bigint NOT NULL,
    message_id bigint NOT NULL,
    part text NOT NULL COLLATE pg_catalog."C",
    filename text NOT NULL,
    content_type text NOT NULL,
    size bigint NOT NULL,
    hash text NOT NULL
);


--
-- Name: blob_data; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.blob_data (
    hash text NOT NULL,
    data bytea NOT NULL
);


--
-- Name: blobs; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.blobs (
    hash text NOT NULL,
    size bigint NOT NULL,
    refcount bigint NOT NULL,
    zero_since timestamp with time zone
);


--
-- Name: changes; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.changes (
    user_id bigint NOT NULL,
    modseq bigint NOT NULL,
    mailbox_id bigint NOT NULL,
    message_id bigint DEFAULT 0 NOT NULL,
    uid bigint DEFAULT 0 NOT NULL,
    kind text NOT NULL
)
PARTITION BY HASH (user_id);


--
-- Name: changes_p0; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.changes_p0 (
    user_id bigint NOT NULL,
    modseq bigint NOT NULL,
    mailbox_id bigint NOT NULL,
    message_id bigint DEFAULT 0 NOT NULL,
    uid bigint DEFAULT 0 NOT NULL,
    kind text NOT NULL
);


--
-- Name: changes_p1; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.changes_p1 (
    user_id bigint NOT NULL,
    modseq bigint NOT NULL,
    mailbox_id bigint NOT NULL,
    message_id bigint DEFAULT 0 NOT NULL,
    uid bigint DEFAULT 0 NOT NULL,
    kind text NOT NULL
);


--
-- Name: changes_p2; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.changes_p2 (
    user_id bigint NOT NULL,
    modseq bigint NOT NULL,
    mailbox_id bigint NOT NULL,
    message_id bigint DEFAULT 0 NOT NULL,
    uid bigint DEFAULT 0 NOT NULL,
    kind text NOT NULL
);


--
-- Name: changes_p3; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.changes_p3 (
    user_id bigint NOT NULL,
    modseq bigint NOT NULL,
    mailbox_id bigint NOT NULL,
    message_id bigint DEFAULT 0 NOT NULL,
    uid bigint DEFAULT 0 NOT NULL,
    kind text NOT NULL
);


--
-- Name: dkim_keys; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.dkim_keys (
    domain text NOT NULL,
    selector text NOT NULL,
    algorithm text NOT NULL,
    private_pem text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: domains; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.domains (
    name text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: kv; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.kv (
    key text NOT NULL COLLATE pg_catalog."C",
    value bytea NOT NULL
);


--
-- Name: mailbox_ids; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.mailbox_ids
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: mailboxes; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.mailboxes (
    user_id bigint NOT NULL,
    id bigint DEFAULT nextval('public.mailbox_ids'::regclass) NOT NULL,
    name text NOT NULL COLLATE pg_catalog."C",
    role text DEFAULT ''::text NOT NULL,
    uidvalidity bigint NOT NULL,
    uidnext bigint DEFAULT 1 NOT NULL,
    highest_modseq bigint DEFAULT 0 NOT NULL,
    subscribed boolean DEFAULT true NOT NULL,
    total integer DEFAULT 0 NOT NULL,
    unread integer DEFAULT 0 NOT NULL,
    size bigint DEFAULT 0 NOT NULL
)
PARTITION BY HASH (user_id);


--
-- Name: mailboxes_p0; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.mailboxes_p0 (
    user_id bigint NOT NULL,
    id bigint DEFAULT nextval('public.mailbox_ids'::regclass) NOT NULL,
    name text NOT NULL COLLATE pg_catalog."C",
    role text DEFAULT ''::text NOT NULL,
    uidvalidity bigint NOT NULL,
    uidnext bigint DEFAULT 1 NOT NULL,
    highest_modseq bigint DEFAULT 0 NOT NULL,
    subscribed boolean DEFAULT true NOT NULL,
    total integer DEFAULT 0 NOT NULL,
    unread integer DEFAULT 0 NOT NULL,
    size bigint DEFAULT 0 NOT NULL
);


--
-- Name: mailboxes_p1; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.mailboxes_p1 (
    user_id bigint NOT NULL,
    id bigint DEFAULT nextval('public.mailbox_ids'::regclass) NOT NULL,
    name text NOT NULL COLLATE pg_catalog."C",
    role text DEFAULT ''::text NOT NULL,
    uidvalidity bigint NOT NULL,
    uidnext bigint DEFAULT 1 NOT NULL,
    highest_modseq bigint DEFAULT 0 NOT NULL,
    subscribed boolean DEFAULT true NOT NULL,
    total integer DEFAULT 0 NOT NULL,
    unread integer DEFAULT 0 NOT NULL,
    size bigint DEFAULT 0 NOT NULL
);


--
-- Name: mailboxes_p2; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.mailboxes_p2 (
    user_id bigint NOT NULL,
    id bigint DEFAULT nextval('public.mailbox_ids'::regclass) NOT NULL,
    name text NOT NULL COLLATE pg_catalog."C",
    role text DEFAULT ''::text NOT NULL,
    uidvalidity bigint NOT NULL,
    uidnext bigint DEFAULT 1 NOT NULL,
    highest_modseq bigint DEFAULT 0 NOT NULL,
    subscribed boolean DEFAULT true NOT NULL,
    total integer DEFAULT 0 NOT NULL,
    unread integer DEFAULT 0 NOT NULL,
    size bigint DEFAULT 0 NOT NULL
);


--
-- Name: mailboxes_p3; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.mailboxes_p3 (
    user_id bigint NOT NULL,
    id bigint DEFAULT nextval('public.mailbox_ids'::regclass) NOT NULL,
    name text NOT NULL COLLATE pg_catalog."C",
    role text DEFAULT ''::text NOT NULL,
    uidvalidity bigint NOT NULL,
    uidnext bigint DEFAULT 1 NOT NULL,
    highest_modseq bigint DEFAULT 0 NOT NULL,
    subscribed boolean DEFAULT true NOT NULL,
    total integer DEFAULT 0 NOT NULL,
    unread integer DEFAULT 0 NOT NULL,
    size bigint DEFAULT 0 NOT NULL
);


--
-- Name: message_ids; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.message_ids
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: messages; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.messages (
    user_id bigint NOT NULL,
    id bigint NOT NULL,
    mailbox_id bigint NOT NULL,
    uid bigint NOT NULL,
    thread_id bigint NOT NULL,
    modseq bigint NOT NULL,
    flags text[] NOT NULL,
    seen boolean NOT NULL,
    internal_date timestamp with time zone NOT NULL,
    size bigint NOT NULL,
    header_size bigint NOT NULL,
    segments jsonb NOT NULL,
    subject text NOT NULL,
    from_addrs jsonb,
    to_addrs jsonb,
    cc_addrs jsonb,
    from_text text NOT NULL,
    to_text text NOT NULL,
    date timestamp with time zone,
    message_id_hdr text NOT NULL,
    snippet text NOT NULL,
    has_attachments boolean NOT NULL
)
PARTITION BY HASH (user_id);


--
-- Name: messages_p0; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.messages_p0 (
    user_id bigint NOT NULL,
    id bigint NOT NULL,
    mailbox_id bigint NOT NULL,
    uid bigint NOT NULL,
    thread_id bigint NOT NULL,
    modseq bigint NOT NULL,
    flags text[] NOT NULL,
    seen boolean NOT NULL,
    internal_date timestamp with time zone NOT NULL,
    size bigint NOT NULL,
    header_size bigint NOT NULL,
    segments jsonb NOT NULL,
    subject text NOT NULL,
    from_addrs jsonb,
    to_addrs jsonb,
    cc_addrs jsonb,
    from_text text NOT NULL,
    to_text text NOT NULL,
    date timestamp with time zone,
    message_id_hdr text NOT NULL,
    snippet text NOT NULL,
    has_attachments boolean NOT NULL
);


--
-- Name: messages_p1; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.messages_p1 (
    user_id bigint NOT NULL,
    id bigint NOT NULL,
    mailbox_id bigint NOT NULL,
    uid bigint NOT NULL,
    thread_id bigint NOT NULL,
    modseq bigint NOT NULL,
    flags text[] NOT NULL,
    seen boolean NOT NULL,
    internal_date timestamp with time zone NOT NULL,
    size bigint NOT NULL,
    header_size bigint NOT NULL,
    segments jsonb NOT NULL,
    subject text NOT NULL,
    from_addrs jsonb,
    to_addrs jsonb,
    cc_addrs jsonb,
    from_text text NOT NULL,
    to_text text NOT NULL,
    date timestamp with time zone,
    message_id_hdr text NOT NULL,
    snippet text NOT NULL,
    has_attachments boolean NOT NULL
);


--
-- Name: messages_p2; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.messages_p2 (
    user_id bigint NOT NULL,
    id bigint NOT NULL,
    mailbox_id bigint NOT NULL,
    uid bigint NOT NULL,
    thread_id bigint NOT NULL,
    modseq bigint NOT NULL,
    flags text[] NOT NULL,
    seen boolean NOT NULL,
    internal_date timestamp with time zone NOT NULL,
    size bigint NOT NULL,
    header_size bigint NOT NULL,
    segments jsonb NOT NULL,
    subject text NOT NULL,
    from_addrs jsonb,
    to_addrs jsonb,
    cc_addrs jsonb,
    from_text text NOT NULL,
    to_text text NOT NULL,
    date timestamp with time zone,
    message_id_hdr text NOT NULL,
    snippet text NOT NULL,
    has_attachments boolean NOT NULL
);


--
-- Name: messages_p3; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.messages_p3 (
    user_id bigint NOT NULL,
    id bigint NOT NULL,
    mailbox_id bigint NOT NULL,
    uid bigint NOT NULL,
    thread_id bigint NOT NULL,
    modseq bigint NOT NULL,
    flags text[] NOT NULL,
    seen boolean NOT NULL,
    internal_date timestamp with time zone NOT NULL,
    size bigint NOT NULL,
    header_size bigint NOT NULL,
    segments jsonb NOT NULL,
    subject text NOT NULL,
    from_addrs jsonb,
    to_addrs jsonb,
    cc_addrs jsonb,
    from_text text NOT NULL,
    to_text text NOT NULL,
    date timestamp with time zone,
    message_id_hdr text NOT NULL,
    snippet text NOT NULL,
    has_attachments boolean NOT NULL
);


--
-- Name: queue_ids; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.queue_ids
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: queue; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.queue (
    id bigint DEFAULT nextval('public.queue_ids'::regclass) NOT NULL,
    user_id bigint DEFAULT 0 NOT NULL,
    sender text NOT NULL,
    recipients jsonb NOT NULL,
    segments jsonb NOT NULL,
    size bigint NOT NULL,
    state text NOT NULL,
    attempts integer DEFAULT 0 NOT NULL,
    next_attempt_at timestamp with time zone NOT NULL,
    created_at timestamp with time zone NOT NULL,
    last_error text DEFAULT ''::text NOT NULL,
    results jsonb
);


--
-- Name: schema_migrations; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.schema_migrations (
    version integer NOT NULL,
    applied_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: search; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.search (
    user_id bigint NOT NULL,
    message_id bigint NOT NULL,
    tsv tsvector NOT NULL
)
PARTITION BY HASH (user_id);


--
-- Name: search_p0; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.search_p0 (
    user_id bigint NOT NULL,
    message_id bigint NOT NULL,
    tsv tsvector NOT NULL
);


--
-- Name: search_p1; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.search_p1 (
    user_id bigint NOT NULL,
    message_id bigint NOT NULL,
    tsv tsvector NOT NULL
);


--
-- Name: search_p2; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.search_p2 (
    user_id bigint NOT NULL,
    message_id bigint NOT NULL,
    tsv tsvector NOT NULL
);


--
-- Name: search_p3; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.search_p3 (
    user_id bigint NOT NULL,
    message_id bigint NOT NULL,
    tsv tsvector NOT NULL
);


--
-- Name: sessions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.sessions (
    token_hash text NOT NULL,
    user_id bigint NOT NULL,
    created_at timestamp with time zone NOT NULL,
    expires_at timestamp with time zone NOT NULL
);


--
-- Name: thread_ids; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.thread_ids
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: thread_refs; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.thread_refs (
    user_id bigint NOT NULL,
    msgid text NOT NULL,
    thread_id bigint NOT NULL
)
PARTITION BY HASH (user_id);


--
-- Name: thread_refs_p0; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.thread_refs_p0 (
    user_id bigint NOT NULL,
    msgid text NOT NULL,
    thread_id bigint NOT NULL
);


--
-- Name: thread_refs_p1; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.thread_refs_p1 (
    user_id bigint NOT NULL,
    msgid text NOT NULL,
    thread_id bigint NOT NULL
);


--
-- Name: thread_refs_p2; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.thread_refs_p2 (
    user_id bigint NOT NULL,
    msgid text NOT NULL,
    thread_id bigint NOT NULL
);


--
-- Name: thread_refs_p3; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.thread_refs_p3 (
    user_id bigint NOT NULL,
    msgid text NOT NULL,
    thread_id bigint NOT NULL
);


--
-- Name: threads; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.threads (
    user_id bigint NOT NULL,
    id bigint NOT NULL,
    subject_norm text NOT NULL
)
PARTITION BY HASH (user_id);


--
-- Name: threads_p0; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.threads_p0 (
    user_id bigint NOT NULL,
    id bigint NOT NULL,
    subject_norm text NOT NULL
);


--
-- Name: threads_p1; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.threads_p1 (
    user_id bigint NOT NULL,
    id bigint NOT NULL,
    subject_norm text NOT NULL
);


--
-- Name: threads_p2; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.threads_p2 (
    user_id bigint NOT NULL,
    id bigint NOT NULL,
    subject_norm text NOT NULL
);


--
-- Name: threads_p3; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.threads_p3 (
    user_id bigint NOT NULL,
    id bigint NOT NULL,
    subject_norm text NOT NULL
);


--
-- Name: training_ids; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.training_ids
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: training; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.training (
    user_id bigint NOT NULL,
    id bigint DEFAULT nextval('public.training_ids'::regclass) NOT NULL,
    message_id bigint NOT NULL,
    spam boolean NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL
)
PARTITION BY HASH (user_id);


--
-- Name: training_p0; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.training_p0 (
    user_id bigint NOT NULL,
    id bigint DEFAULT nextval('public.training_ids'::regclass) NOT NULL,
    message_id bigint NOT NULL,
    spam boolean NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: training_p1; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.training_p1 (
    user_id bigint NOT NULL,
    id bigint DEFAULT nextval('public.training_ids'::regclass) NOT NULL,
    message_id bigint NOT NULL,
    spam boolean NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: training_p2; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.training_p2 (
    user_id bigint NOT NULL,
    id bigint DEFAULT nextval('public.training_ids'::regclass) NOT NULL,
    message_id bigint NOT NULL,
    spam boolean NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: training_p3; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.training_p3 (
    user_id bigint NOT NULL,
    id bigint DEFAULT nextval('public.training_ids'::regclass) NOT NULL,
    message_id bigint NOT NULL,
    spam boolean NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: uidvalidity_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.uidvalidity_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    MAXVALUE 4294967295
    CACHE 1
    CYCLE;


--
-- Name: users; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.users (
    id bigint NOT NULL,
    address text NOT NULL,
    password_hash text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    modseq bigint DEFAULT 0 NOT NULL
);


--
-- Name: users_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.users_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: users_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.users_id_seq OWNED BY public.users.id;


--
-- Name: attachments_p0; Type: TABLE ATTACH; Schema: public; Owner: -
--

ALTER TABLE ONLY public.attachments ATTACH PARTITION public.attachments_p0 FOR VALUES WITH (modulus 4, remainder 0);


--
-- Name: attachments_p1; Type: TABLE ATTACH; Schema: public; Owner: -
--

ALTER TABLE ONLY public.attachments ATTACH PARTITION public.attachments_p1 FOR VALUES WITH (modulus 4, remainder 1);


--
-- Name: attachments_p2; Type: TABLE ATTACH; Schema: public; Owner: -
--

ALTER TABLE ONLY public.attachments ATTACH PARTITION public.attachments_p2 FOR VALUES WITH (modulus 4, remainder 2);


--
-- Name: attachments_p3; Type: TABLE ATTACH; Schema: public; Owner: -
--

ALTER TABLE ONLY public.attachments ATTACH PARTITION public.attachments_p3 FOR VALUES WITH (modulus 4, remainder 3);


--
-- Name: changes_p0; Type: TABLE ATTACH; Schema: public; Owner: -
--

ALTER TABLE ONLY public.changes ATTACH PARTITION public.changes_p0 FOR VALUES WITH (modulus 4, remainder 0);


--
-- Name: changes_p1; Type: TABLE ATTACH; Schema: public; Owner: -
--

ALTER TABLE ONLY public.changes ATTACH PARTITION public.changes_p1 FOR VALUES WITH (modulus 4, remainder 1);


--
-- Name: changes_p2; Type: TABLE ATTACH; Schema: public; Owner: -
--

ALTER TABLE ONLY public.changes ATTACH PARTITION public.changes_p2 FOR VALUES WITH (modulus 4, remainder 2);


--
-- Name: changes_p3; Type: TABLE ATTACH; Schema: public; Owner: -
--

ALTER TABLE ONLY public.changes ATTACH PARTITION public.changes_p3 FOR VALUES WITH (modulus 4, remainder 3);


--
-- Name: mailboxes_p0; Type: TABLE ATTACH; Schema: public; Owner: -
--

ALTER TABLE ONLY public.mailboxes ATTACH PARTITION public.mailboxes_p0 FOR VALUES WITH (modulus 4, remainder 0);


--
-- Name: mailboxes_p1; Type: TABLE ATTACH; Schema: public; Owner: -
--

ALTER TABLE ONLY public.mailboxes ATTACH PARTITION public.mailboxes_p1 FOR VALUES WITH (modulus 4, remainder 1);


--
-- Name: mailboxes_p2; Type: TABLE ATTACH; Schema: public; Owner: -
--

ALTER TABLE ONLY public.mailboxes ATTACH PARTITION public.mailboxes_p2 FOR VALUES WITH (modulus 4, remainder 2);


--
-- Name: mailboxes_p3; Type: TABLE ATTACH; Schema: public; Owner: -
--

ALTER TABLE ONLY public.mailboxes ATTACH PARTITION public.mailboxes_p3 FOR VALUES WITH (modulus 4, remainder 3);


--
-- Name: messages_p0; Type: TABLE ATTACH; Schema: public; Owner: -
--

ALTER TABLE ONLY public.messages ATTACH PARTITION public.messages_p0 FOR VALUES WITH (modulus 4, remainder 0);


--
-- Name: messages_p1; Type: TABLE ATTACH; Schema: public; Owner: -
--

ALTER TABLE ONLY public.messages ATTACH PARTITION public.messages_p1 FOR VALUES WITH (modulus 4, remainder 1);


--
-- Name: messages_p2; Type: TABLE ATTACH; Schema: public; Owner: -
--

ALTER TABLE ONLY public.messages ATTACH PARTITION public.messages_p2 FOR VALUES WITH (modulus 4, remainder 2);


--
-- Name: messages_p3; Type: TABLE ATTACH; Schema: public; Owner: -
--

ALTER TABLE ONLY public.messages ATTACH PARTITION public.messages_p3 FOR VALUES WITH (modulus 4, remainder 3);


--
-- Name: search_p0; Type: TABLE ATTACH; Schema: public; Owner: -
--

ALTER TABLE ONLY public.search ATTACH PARTITION public.search_p0 FOR VALUES WITH (modulus 4, remainder 0);


--
-- Name: search_p1; Type: TABLE ATTACH; Schema: public; Owner: -
--

ALTER TABLE ONLY public.search ATTACH PARTITION public.search_p1 FOR VALUES WITH (modulus 4, remainder 1);


--
-- Name: search_p2; Type: TABLE ATTACH; Schema: public; Owner: -
--

ALTER TABLE ONLY public.search ATTACH PARTITION public.search_p2 FOR VALUES WITH (modulus 4, remainder 2);


--
-- Name: search_p3; Type: TABLE ATTACH; Schema: public; Owner: -
--

ALTER TABLE ONLY public.search ATTACH PARTITION public.search_p3 FOR VALUES WITH (modulus 4, remainder 3);


--
-- Name: thread_refs_p0; Type: TABLE ATTACH; Schema: public; Owner: -
--

ALTER TABLE ONLY public.thread_refs ATTACH PARTITION public.thread_refs_p0 FOR VALUES WITH (modulus 4, remainder 0);


--
-- Name: thread_refs_p1; Type: TABLE ATTACH; Schema: public; Owner: -
--

ALTER TABLE ONLY public.thread_refs ATTACH PARTITION public.thread_refs_p1 FOR VALUES WITH (modulus 4, remainder 1);


--
-- Name: thread_refs_p2; Type: TABLE ATTACH; Schema: public; Owner: -
--

ALTER TABLE ONLY public.thread_refs ATTACH PARTITION public.thread_refs_p2 FOR VALUES WITH (modulus 4, remainder 2);


--
-- Name: thread_refs_p3; Type: TABLE ATTACH; Schema: public; Owner: -
--

ALTER TABLE ONLY public.thread_refs ATTACH PARTITION public.thread_refs_p3 FOR VALUES WITH (modulus 4, remainder 3);


--
-- Name: threads_p0; Type: TABLE ATTACH; Schema: public; Owner: -
--

ALTER TABLE ONLY public.threads ATTACH PARTITION public.threads_p0 FOR VALUES WITH (modulus 4, remainder 0);


--
-- Name: threads_p1; Type: TABLE ATTACH; Schema: public; Owner: -
--

ALTER TABLE ONLY public.threads ATTACH PARTITION public.threads_p1 FOR VALUES WITH (modulus 4, remainder 1);


--
-- Name: threads_p2; Type: TABLE ATTACH; Schema: public; Owner: -
--

ALTER TABLE ONLY public.threads ATTACH PARTITION public.threads_p2 FOR VALUES WITH (modulus 4, remainder 2);


--
-- Name: threads_p3; Type: TABLE ATTACH; Schema: public; Owner: -
--

ALTER TABLE ONLY public.threads ATTACH PARTITION public.threads_p3 FOR VALUES WITH (modulus 4, remainder 3);


--
-- Name: training_p0; Type: TABLE ATTACH; Schema: public; Owner: -
--

ALTER TABLE ONLY public.training ATTACH PARTITION public.training_p0 FOR VALUES WITH (modulus 4, remainder 0);


--
-- Name: training_p1; Type: TABLE ATTACH; Schema: public; Owner: -
--

ALTER TABLE ONLY public.training ATTACH PARTITION public.training_p1 FOR VALUES WITH (modulus 4, remainder 1);


--
-- Name: training_p2; Type: TABLE ATTACH; Schema: public; Owner: -
--

ALTER TABLE ONLY public.training ATTACH PARTITION public.training_p2 FOR VALUES WITH (modulus 4, remainder 2);


--
-- Name: training_p3; Type: TABLE ATTACH; Schema: public; Owner: -
--

ALTER TABLE ONLY public.training ATTACH PARTITION public.training_p3 FOR VALUES WITH (modulus 4, remainder 3);


--
-- Name: users id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.users ALTER COLUMN id SET DEFAULT nextval('public.users_id_seq'::regclass);


--
-- Data for Name: attachments_p0; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.attachments_p0 (user_id, message_id, part, filename, content_type, size, hash) FROM stdin;
\.


--
-- Data for Name: attachments_p1; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.attachments_p1 (user_id, message_id, part, filename, content_type, size, hash) FROM stdin;
\.


--
-- Data for Name: attachments_p2; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.attachments_p2 (user_id, message_id, part, filename, content_type, size, hash) FROM stdin;
\.


--
-- Data for Name: attachments_p3; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.attachments_p3 (user_id, message_id, part, filename, content_type, size, hash) FROM stdin;
\.


--
-- Data for Name: blob_data; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.blob_data (hash, data) FROM stdin;
d974e7ffdf5ee8d03418c9fbc57f7315906263bb11292ef8d4995e356e0d4151	\\x5375626a6563743a2066697273740d0a46726f6d3a20416e6e203c616e6e4072656d6f74652e6578616d706c653e0d0a4d6573736167652d49443a203c66697273744072656d6f74652e6578616d706c653e0d0a0d0a746865206669727374206d6573736167650d0a
4408603c46f4a82b5566caec292e948819d3082c1d2be15a35500fac1a4d559e	\\x5375626a6563743a207365636f6e640d0a46726f6d3a20426f62203c626f624072656d6f74652e6578616d706c653e0d0a496e2d5265706c792d546f3a203c66697273744072656d6f74652e6578616d706c653e0d0a0d0a746865207365636f6e64206d6573736167650d0a
a55e02601d0872b4bdc5293602293282ab5c8723549abd75faaff8d562218521	\\x5375626a6563743a20696e206120666f6c6465720d0a46726f6d3a204379203c63794072656d6f74652e6578616d706c653e0d0a0d0a66696c656420617761790d0a
\.


--
-- Data for Name: blobs; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.blobs (hash, size, refcount, zero_since) FROM stdin;
d974e7ffdf5ee8d03418c9fbc57f7315906263bb11292ef8d4995e356e0d4151	105	1	\N
4408603c46f4a82b5566caec292e948819d3082c1d2be15a35500fac1a4d559e	108	1	\N
9773f933541b548bd4d496b8f03d14f5e57154ffab0d1443639d9dd27c813b43	129048	1	\N
a55e02601d0872b4bdc5293602293282ab5c8723549abd75faaff8d562218521	66	1	\N
\.


--
-- Data for Name: changes_p0; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.changes_p0 (user_id, modseq, mailbox_id, message_id, uid, kind) FROM stdin;
1	1	1	0	0	mailbox
1	2	2	0	0	mailbox
1	3	3	0	0	mailbox
1	4	4	0	0	mailbox
1	5	5	0	0	mailbox
1	6	6	0	0	mailbox
1	7	7	0	0	mailbox
1	8	1	1	1	new
1	9	1	2	2	new
1	10	1	3	3	new
1	11	7	4	1	new
\.


--
-- Data for Name: changes_p1; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.changes_p1 (user_id, modseq, mailbox_id, message_id, uid, kind) FROM stdin;
\.


--
-- Data for Name: changes_p2; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.changes_p2 (user_id, modseq, mailbox_id, message_id, uid, kind) FROM stdin;
\.


--
-- Data for Name: changes_p3; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.changes_p3 (user_id, modseq, mailbox_id, message_id, uid, kind) FROM stdin;
\.


--
-- Data for Name: dkim_keys; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.dkim_keys (domain, selector, algorithm, private_pem, created_at) FROM stdin;
example.test	stamp-ed-202612	ed25519	-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIOA9gboA2xVkIFivjgD/xCjtMbFmCTS6BcpFyG2mR4NF\n-----END PRIVATE KEY-----\n	2026-12-01 17:39:14.954483+00
example.test	stamp-rsa-202612	rsa	-----BEGIN PRIVATE KEY-----\nMIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQCeY8J3Xnnd18d8\nOw6lMPiyWznhU8/qh5SRoGIPvn6FqwgtEsP1EZGMe3i74umSrTdlqHe4l/ES5/gJ\nin/CnEDh1TVPqQDAsyyn9cN4Qq+zUQjFw5QAMcsn9aRrH/lPuOo6+1gip6GCQQtT\nJr3WIJrYay2rjCO8AnKHS12Oo6lQoA1SiImVNYxTU7Cb4zDwIA4aur11UvcEcspq\n+UcXdUenIOR4bbUk6tab5A/Gv4FnKrxpHKUZuSR5pZ1b2TLHFn9cgCOjX1Kh/sUs\nSuGzVO1lKd8X586i9HbJHWlO7nIUPor2n7iE/zO12zQv73B6OiX9DuY4EhMpYdBi\n5B+JehgfAgMBAAECggEAIOJYYR0h0x+2IIJIZ56Tu7/58+DJRYmRnGx+f4NO1GSu\nhWEkgxB7Nf36kpOpZ9UDr9z6wj31hLXZhu2U2exEAj8YWuodKGTqzBJX23OI9ANK\nfXi+FQ5BfhHfaYhRZC5hnw5I/aTtANSNS926wyawz2btK/UkBChD6/gHPBKZmA3X\nFtpTWL8pVyS4De4YSpF/m73+nv1O1lUYGS7WwPN5xVG+nxR6GpVdyq6kM1iazQnl\nS4ejMX1T+sNM22l/qopOAo/HW28AJ4OafGEQxHySjBVDI40Rcec3woqqfBb3ArFv\nu5Q1StDucHhVmL5uQ3uDTpxBxalHkBoaSjKAsX7ZUQKBgQDR1XiGLjplS8nudnk9\nUiZPBu/Tw7bBX/ryI5qYEfyXRBeMCJ+yi7GGQcwROWh1UduhWt7dPoQb8KIvMXp0\nZBjffIX3pX16hk+gCjZpCTRaqCHJrdoBkGbfhHn+4YSq/07Cpu+DDozM/kxGQaBd\nSX4cvkXM4iKEIAGnYh3Q0IMaDwKBgQDBPMjHF0Xrd17gVzaQoXg5SsHibBnpqEUc\n3KoViUzzUGQZNrqeSaX6xelkl834m4TQnghfFcuUFLcp0VVAExX/b7vSbjeSKjHZ\ngifKho+1xKVIyncRh5rLrjeu5eluspDa6L7lYM5TAroF2iOhzmK/DD00p+tNbFPb\nhOTruthw8QKBgHYbSbN84bGSbx6h4Kv7SUTCCsuPJZbCh2UzVRizRxF9aiOP1xOQ\nPWPsNQic34bphE3V8Atn3MQ9NYyKtPo+PSHN3Tn/FBma78aM+QM2Axnj+OCj0kl/\nFehJkME9/oahHZvCip2h2u6nVBdXaQQZEbrr/i3MOtFTkpq8Rzv5oVFRAoGAOpQN\nnWTtujq+lS17Cg8Y3e1Opy/0DwQGp4AxQ0QTArN9FLOlkPRsj3/Nh8QJGXMzqPYv\nPXvi8enxuIiP2lOu2HdrrZfh2rpV0EUHgPqXuBd7r3xI6hR8lYAjuy5RPFB/Xw0t\nSWW2Ri3ObJW7NYLWJmo0Z7D7wMW1ChfYOamzkVECgYBzFsPfu4e+gbnACQfG+rta\nkVKWAqHkk7uudWIx8sgWyXO2Ci6W4R3xB3NkN3WmEchf58LCkOqXGj67mVxEw8y6\noI/P7J8hGJDNHaTJf8iSDdJepmOMdo4hlMAY8PQZbFnbiR1WmZIIEmBINLJW15P3\nX1LJB9TtA6JWbwhxDpvryw==\n-----END PRIVATE KEY-----\n	2026-12-01 17:39:14.954483+00
\.


--
-- Data for Name: domains; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.domains (name, created_at) FROM stdin;
example.test	2026-12-01 17:39:14.920981+00
\.


--
-- Data for Name: kv; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.kv (key, value) FROM stdin;
fixture/written-by	\\x6f6c646572207374616d70
\.


--
-- Data for Name: mailboxes_p0; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.mailboxes_p0 (user_id, id, name, role, uidvalidity, uidnext, highest_modseq, subscribed, total, unread, size) FROM stdin;
1	2	Sent	sent	1796146754	1	2	t	0	0	0
1	3	Drafts	drafts	1796146755	1	3	t	0	0	0
1	4	Junk	junk	1796146756	1	4	t	0	0	0
1	5	Trash	trash	1796146757	1	5	t	0	0	0
1	6	Archive	archive	1796146758	1	6	t	0	0	0
1	1	INBOX	inbox	1796146753	4	10	t	3	2	129261
1	7	Projects/Old		1796146759	2	11	t	1	0	66
\.


--
-- Data for Name: mailboxes_p1; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.mailboxes_p1 (user_id, id, name, role, uidvalidity, uidnext, highest_modseq, subscribed, total, unread, size) FROM stdin;
\.


--
-- Data for Name: mailboxes_p2; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.mailboxes_p2 (user_id, id, name, role, uidvalidity, uidnext, highest_modseq, subscribed, total, unread, size) FROM stdin;
\.


--
-- Data for Name: mailboxes_p3; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.mailboxes_p3 (user_id, id, name, role, uidvalidity, uidnext, highest_modseq, subscribed, total, unread, size) FROM stdin;
\.


--
-- Data for Name: messages_p0; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.messages_p0 (user_id, id, mailbox_id, uid, thread_id, modseq, flags, seen, internal_date, size, header_size, segments, subject, from_addrs, to_addrs, cc_addrs, from_text, to_text, date, message_id_hdr, snippet, has_attachments) FROM stdin;
1	1	1	1	1	8	{"\\\\Seen"}	t	2025-06-01 10:00:00+00	105	86	[{"h": "d974e7ffdf5ee8d03418c9fbc57f7315906263bb11292ef8d4995e356e0d4151", "i": true, "n": 105}]	first	[{"name": "Ann", "address": "ann@remote.example"}]	[]	[]	Ann ann@remote.example 		\N	first@remote.example	the first message	f
1	2	1	2	1	9	{$Important,"\\\\Flagged"}	f	2025-06-01 11:00:00+00	108	88	[{"h": "4408603c46f4a82b5566caec292e948819d3082c1d2be15a35500fac1a4d559e", "i": true, "n": 108}]	second	[{"name": "Bob", "address": "bob@remote.example"}]	[]	[]	Bob bob@remote.example 		\N		the second message	f
1	3	1	3	3	10	{}	f	2025-06-01 12:00:00+00	129048	48	[{"h": "9773f933541b548bd4d496b8f03d14f5e57154ffab0d1443639d9dd27c813b43", "n": 129048}]	big	[{"name": "Big", "address": "big@remote.example"}]	[]	[]	Big big@remote.example 		\N		0123456789 big attachment-sized body line 0123456789 big attachment-sized body line 0123456789 big attachment-sized body line 0123456789 big attachment-sized body line 0123456789 big attachment-sized 	f
1	4	7	1	4	11	{"\\\\Answered","\\\\Seen"}	t	2025-06-01 13:00:00+00	66	54	[{"h": "a55e02601d0872b4bdc5293602293282ab5c8723549abd75faaff8d562218521", "i": true, "n": 66}]	in a folder	[{"name": "Cy", "address": "cy@remote.example"}]	[]	[]	Cy cy@remote.example 		\N		filed away	f
\.


--
-- Data for Name: messages_p1; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.messages_p1 (user_id, id, mailbox_id, uid, thread_id, modseq, flags, seen, internal_date, size, header_size, segments, subject, from_addrs, to_addrs, cc_addrs, from_text, to_text, date, message_id_hdr, snippet, has_attachments) FROM stdin;
\.


--
-- Data for Name: messages_p2; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.messages_p2 (user_id, id, mailbox_id, uid, thread_id, modseq, flags, seen, internal_date, size, header_size, segments, subject, from_addrs, to_addrs, cc_addrs, from_text, to_text, date, message_id_hdr, snippet, has_attachments) FROM stdin;
\.


--
-- Data for Name: messages_p3; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.messages_p3 (user_id, id, mailbox_id, uid, thread_id, modseq, flags, seen, internal_date, size, header_size, segments, subject, from_addrs, to_addrs, cc_addrs, from_text, to_text, date, message_id_hdr, snippet, has_attachments) FROM stdin;
\.


--
-- Data for Name: queue; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.queue (id, user_id, sender, recipients, segments, size, state, attempts, next_attempt_at, created_at, last_error, results) FROM stdin;
\.


--
-- Data for Name: schema_migrations; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.schema_migrations (version, applied_at) FROM stdin;
1	2026-12-01 17:39:11.886154+00
2	2026-12-01 17:39:13.868639+00
\.


--
-- Data for Name: search_p0; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.search_p0 (user_id, message_id, tsv) FROM stdin;
1	1	'ann':2B,4B 'ann@remote.example':3B 'example':6B 'first':1A,8 'message':9 'remote':5B 'the':7
1	2	'bob':2B,4B 'bob@remote.example':3B 'example':6B 'message':9 'remote':5B 'second':1A,8 'the':7
1	3	'0123456789':7,14,21,28,35,42,49,56,63,70,77,84,91,98,105,112,119,126,133,140,147,154,161,168,175,182,189,196,203,210,217,224,231,238,245,252,259,266,273,280,287,294,301,308,315,322,329,336,343,350,357,364,371,378,385,392,399,406,413,420,427,434,441,448,455,462,469,476,483,490,497,504,511,518,525,532,539,546,553,560,567,574,581,588,595,602,609,616,623,630,637,644,651,658,665,672,679,686,693,700,707,714,721,728,735,742,749,756,763,770,777,784,791,798,805,812,819,826,833,840,847,854,861,868,875,882,889,896,903,910,917,924,931,938,945,952,959,966,973,980,987,994,1001,1008,1015,1022,1029,1036,1043,1050,1057,1064,1071,1078,1085,1092,1099,1106,1113,1120,1127,1134,1141,1148,1155,1162,1169,1176,1183,1190,1197,1204,1211,1218,1225,1232,1239,1246,1253,1260,1267,1274,1281,1288,1295,1302,1309,1316,1323,1330,1337,1344,1351,1358,1365,1372,1379,1386,1393,1400,1407,1414,1421,1428,1435,1442,1449,1456,1463,1470,1477,1484,1491,1498,1505,1512,1519,1526,1533,1540,1547,1554,1561,1568,1575,1582,1589,1596,1603,1610,1617,1624,1631,1638,1645,1652,1659,1666,1673,1680,1687,1694,1701,1708,1715,1722,1729,1736,1743,1750,1757,1764,1771,1778,1785 'attachment':10,17,24,31,38,45,52,59,66,73,80,87,94,101,108,115,122,129,136,143,150,157,164,171,178,185,192,199,206,213,220,227,234,241,248,255,262,269,276,283,290,297,304,311,318,325,332,339,346,353,360,367,374,381,388,395,402,409,416,423,430,437,444,451,458,465,472,479,486,493,500,507,514,521,528,535,542,549,556,563,570,577,584,591,598,605,612,619,626,633,640,647,654,661,668,675,682,689,696,703,710,717,724,731,738,745,752,759,766,773,780,787,794,801,808,815,822,829,836,843,850,857,864,871,878,885,892,899,906,913,920,927,934,941,948,955,962,969,976,983,990,997,1004,1011,1018,1025,1032,1039,1046,1053,1060,1067,1074,1081,1088,1095,1102,1109,1116,1123,1130,1137,1144,1151,1158,1165,1172,1179,1186,1193,1200,1207,1214,1221,1228,1235,1242,1249,1256,1263,1270,1277,1284,1291,1298,1305,1312,1319,1326,1333,1340,1347,1354,1361,1368,1375,1382,1389,1396,1403,1410,1417,1424,1431,1438,1445,1452,1459,1466,1473,1480,1487,1494,1501,1508,1515,1522,1529,1536,1543,1550,1557,1564,1571,1578,1585,1592,1599,1606,1613,1620,1627,1634,1641,1648,1655,1662,1669,1676,1683,1690,1697,1704,1711,1718,1725,1732,1739,1746,1753,1760,1767,1774,1781,1788 'attachment-sized':9,16,23,30,37,44,51,58,65,72,79,86,93,100,107,114,121,128,135,142,149,156,163,170,177,184,191,198,205,212,219,226,233,240,247,254,261,268,275,282,289,296,303,310,317,324,331,338,345,352,359,366,373,380,387,394,401,408,415,422,429,436,443,450,457,464,471,478,485,492,499,506,513,520,527,534,541,548,555,562,569,576,583,590,597,604,611,618,625,632,639,646,653,660,667,674,681,688,695,702,709,716,723,730,737,744,751,758,765,772,779,786,793,800,807,814,821,828,835,842,849,856,863,870,877,884,891,898,905,912,919,926,933,940,947,954,961,968,975,982,989,996,1003,1010,1017,1024,1031,1038,1045,1052,1059,1066,1073,1080,1087,1094,1101,1108,1115,1122,1129,1136,1143,1150,1157,1164,1171,1178,1185,1192,1199,1206,1213,1220,1227,1234,1241,1248,1255,1262,1269,1276,1283,1290,1297,1304,1311,1318,1325,1332,1339,1346,1353,1360,1367,1374,1381,1388,1395,1402,1409,1416,1423,1430,1437,1444,1451,1458,1465,1472,1479,1486,1493,1500,1507,1514,1521,1528,1535,1542,1549,1556,1563,1570,1577,1584,1591,1598,1605,1612,1619,1626,1633,1640,1647,1654,1661,1668,1675,1682,1689,1696,1703,1710,1717,1724,1731,1738,1745,1752,1759,1766,1773,1780,1787 'big':1A,2B,4B,8,15,22,29,36,43,50,57,64,71,78,85,92,99,106,113,120,127,134,141,148,155,162,169,176,183,190,197,204,211,218,225,232,239,246,253,260,267,274,281,288,295,302,309,316,323,330,337,344,351,358,365,372,379,386,393,400,407,414,421,428,435,442,449,456,463,470,477,484,491,498,505,512,519,526,533,540,547,554,561,568,575,582,589,596,603,610,617,624,631,638,645,652,659,666,673,680,687,694,701,708,715,722,729,736,743,750,757,764,771,778,785,792,799,806,813,820,827,834,841,848,855,862,869,876,883,890,897,904,911,918,925,932,939,946,953,960,967,974,981,988,995,1002,1009,1016,1023,1030,1037,1044,1051,1058,1065,1072,1079,1086,1093,1100,1107,1114,1121,1128,1135,1142,1149,1156,1163,1170,1177,1184,1191,1198,1205,1212,1219,1226,1233,1240,1247,1254,1261,1268,1275,1282,1289,1296,1303,1310,1317,1324,1331,1338,1345,1352,1359,1366,1373,1380,1387,1394,1401,1408,1415,1422,1429,1436,1443,1450,1457,1464,1471,1478,1485,1492,1499,1506,1513,1520,1527,1534,1541,1548,1555,1562,1569,1576,1583,1590,1597,1604,1611,1618,1625,1632,1639,1646,1653,1660,1667,1674,1681,1688,1695,1702,1709,1716,1723,1730,1737,1744,1751,1758,1765,1772 'big@remote.example':3B 'body':12,19,26,33,40,47,54,61,68,75,82,89,96,103,110,117,124,131,138,145,152,159,166,173,180,187,194,201,208,215,222,229,236,243,250,257,264,271,278,285,292,299,306,313,320,327,334,341,348,355,362,369,376,383,390,397,404,411,418,425,432,439,446,453,460,467,474,481,488,495,502,509,516,523,530,537,544,551,558,565,572,579,586,593,600,607,614,621,628,635,642,649,656,663,670,677,684,691,698,705,712,719,726,733,740,747,754,761,768,775,782,789,796,803,810,817,824,831,838,845,852,859,866,873,880,887,894,901,908,915,922,929,936,943,950,957,964,971,978,985,992,999,1006,1013,1020,1027,1034,1041,1048,1055,1062,1069,1076,1083,1090,1097,1104,1111,1118,1125,1132,1139,1146,1153,1160,1167,1174,1181,1188,1195,1202,1209,1216,1223,1230,1237,1244,1251,1258,1265,1272,1279,1286,1293,1300,1307,1314,1321,1328,1335,1342,1349,1356,1363,1370,1377,1384,1391,1398,1405,1412,1419,1426,1433,1440,1447,1454,1461,1468,1475,1482,1489,1496,1503,1510,1517,1524,1531,1538,1545,1552,1559,1566,1573,1580,1587,1594,1601,1608,1615,1622,1629,1636,1643,1650,1657,1664,1671,1678,1685,1692,1699,1706,1713,1720,1727,1734,1741,1748,1755,1762,1769,1776,1783,1790 'example':6B 'line':13,20,27,34,41,48,55,62,69,76,83,90,97,104,111,118,125,132,139,146,153,160,167,174,181,188,195,202,209,216,223,230,237,244,251,258,265,272,279,286,293,300,307,314,321,328,335,342,349,356,363,370,377,384,391,398,405,412,419,426,433,440,447,454,461,468,475,482,489,496,503,510,517,524,531,538,545,552,559,566,573,580,587,594,601,608,615,622,629,636,643,650,657,664,671,678,685,692,699,706,713,720,727,734,741,748,755,762,769,776,783,790,797,804,811,818,825,832,839,846,853,860,867,874,881,888,895,902,909,916,923,930,937,944,951,958,965,972,979,986,993,1000,1007,1014,1021,1028,1035,1042,1049,1056,1063,1070,1077,1084,1091,1098,1105,1112,1119,1126,1133,1140,1147,1154,1161,1168,1175,1182,1189,1196,1203,1210,1217,1224,1231,1238,1245,1252,1259,1266,1273,1280,1287,1294,1301,1308,1315,1322,1329,1336,1343,1350,1357,1364,1371,1378,1385,1392,1399,1406,1413,1420,1427,1434,1441,1448,1455,1462,1469,1476,1483,1490,1497,1504,1511,1518,1525,1532,1539,1546,1553,1560,1567,1574,1581,1588,1595,1602,1609,1616,1623,1630,1637,1644,1651,1658,1665,1672,1679,1686,1693,1700,1707,1714,1721,1728,1735,1742,1749,1756,1763,1770,1777,1784,1791 'remote':5B 'sized':11,18,25,32,39,46,53,60,67,74,81,88,95,102,109,116,123,130,137,144,151,158,165,172,179,186,193,200,207,214,221,228,235,242,249,256,263,270,277,284,291,298,305,312,319,326,333,340,347,354,361,368,375,382,389,396,403,410,417,424,431,438,445,452,459,466,473,480,487,494,501,508,515,522,529,536,543,550,557,564,571,578,585,592,599,606,613,620,627,634,641,648,655,662,669,676,683,690,697,704,711,718,725,732,739,746,753,760,767,774,781,788,795,802,809,816,823,830,837,844,851,858,865,872,879,886,893,900,907,914,921,928,935,942,949,956,963,970,977,984,991,998,1005,1012,1019,1026,1033,1040,1047,1054,1061,1068,1075,1082,1089,1096,1103,1110,1117,1124,1131,1138,1145,1152,1159,1166,1173,1180,1187,1194,1201,1208,1215,1222,1229,1236,1243,1250,1257,1264,1271,1278,1285,1292,1299,1306,1313,1320,1327,1334,1341,1348,1355,1362,1369,1376,1383,1390,1397,1404,1411,1418,1425,1432,1439,1446,1453,1460,1467,1474,1481,1488,1495,1502,1509,1516,1523,1530,1537,1544,1551,1558,1565,1572,1579,1586,1593,1600,1607,1614,1621,1628,1635,1642,1649,1656,1663,1670,1677,1684,1691,1698,1705,1712,1719,1726,1733,1740,1747,1754,1761,1768,1775,1782,1789
1	4	'a':2A 'away':10 'cy':4B,6B 'cy@remote.example':5B 'example':8B 'filed':9 'folder':3A 'in':1A 'remote':7B
\.


--
-- Data for Name: search_p1; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.search_p1 (user_id, message_id, tsv) FROM stdin;
\.


--
-- Data for Name: search_p2; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.search_p2 (user_id, message_id, tsv) FROM stdin;
\.


--
-- Data for Name: search_p3; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.search_p3 (user_id, message_id, tsv) FROM stdin;
\.


--
-- Data for Name: sessions; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.sessions (token_hash, user_id, created_at, expires_at) FROM stdin;
\.


--
-- Data for Name: thread_refs_p0; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.thread_refs_p0 (user_id, msgid, thread_id) FROM stdin;
1	first@remote.example	1
\.


--
-- Data for Name: thread_refs_p1; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.thread_refs_p1 (user_id, msgid, thread_id) FROM stdin;
\.


--
-- Data for Name: thread_refs_p2; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.thread_refs_p2 (user_id, msgid, thread_id) FROM stdin;
\.


--
-- Data for Name: thread_refs_p3; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.thread_refs_p3 (user_id, msgid, thread_id) FROM stdin;
\.


--
-- Data for Name: threads_p0; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.threads_p0 (user_id, id, subject_norm) FROM stdin;
1	1	first
1	3	big
1	4	in a folder
\.


--
-- Data for Name: threads_p1; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.threads_p1 (user_id, id, subject_norm) FROM stdin;
\.


--
-- Data for Name: threads_p2; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.threads_p2 (user_id, id, subject_norm) FROM stdin;
\.


--
-- Data for Name: threads_p3; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.threads_p3 (user_id, id, subject_norm) FROM stdin;
\.


--
-- Data for Name: training_p0; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.training_p0 (user_id, id, message_id, spam, created_at) FROM stdin;
\.


--
-- Data for Name: training_p1; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.training_p1 (user_id, id, message_id, spam, created_at) FROM stdin;
\.


--
-- Data for Name: training_p2; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.training_p2 (user_id, id, message_id, spam, created_at) FROM stdin;
\.


--
-- Data for Name: training_p3; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.training_p3 (user_id, id, message_id, spam, created_at) FROM stdin;
\.


--
-- Data for Name: users; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.users (id, address, password_hash, created_at, modseq) FROM stdin;
1	fix@example.test	$2a$10$.AtEy2GB/z/4yO4uQXEvQu.o70vTydW51m49XaZANIjer2bt6A4eG	2026-12-01 17:39:16.807634+00	11
\.


--
-- Name: mailbox_ids; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.mailbox_ids', 7, true);


--
-- Name: message_ids; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.message_ids', 4, true);


--
-- Name: queue_ids; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.queue_ids', 1, false);


--
-- Name: thread_ids; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.thread_ids', 4, true);


--
-- Name: training_ids; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.training_ids', 1, false);


--
-- Name: uidvalidity_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.uidvalidity_seq', 1796146759, true);


--
-- Name: users_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.users_id_seq', 1, true);


--
-- Name: attachments attachments_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.attachments
    ADD CONSTRAINT attachments_pkey PRIMARY KEY (user_id, message_id, part);


--
-- Name: attachments_p0 attachments_p0_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.attachments_p0
    ADD CONSTRAINT attachments_p0_pkey PRIMARY KEY (user_id, message_id, part);


--
-- Name: attachments_p1 attachments_p1_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.attachments_p1
    ADD CONSTRAINT attachments_p1_pkey PRIMARY KEY (user_id, message_id, part);


--
-- Name: attachments_p2 attachments_p2_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.attachments_p2
    ADD CONSTRAINT attachments_p2_pkey PRIMARY KEY (user_id, message_id, part);


--
-- Name: attachments_p3 attachments_p3_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.attachments_p3
    ADD CONSTRAINT attachments_p3_pkey PRIMARY KEY (user_id, message_id, part);


--
-- Name: blob_data blob_data_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.blob_data
    ADD CONSTRAINT blob_data_pkey PRIMARY KEY (hash);


--
-- Name: blobs blobs_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.blobs
    ADD CONSTRAINT blobs_pkey PRIMARY KEY (hash);


--
-- Name: changes changes_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.changes
    ADD CONSTRAINT changes_pkey PRIMARY KEY (user_id, modseq);


--
-- Name: changes_p0 changes_p0_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.changes_p0
    ADD CONSTRAINT changes_p0_pkey PRIMARY KEY (user_id, modseq);


--
-- Name: changes_p1 changes_p1_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.changes_p1
    ADD CONSTRAINT changes_p1_pkey PRIMARY KEY (user_id, modseq);


--
-- Name: changes_p2 changes_p2_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.changes_p2
    ADD CONSTRAINT changes_p2_pkey PRIMARY KEY (user_id, modseq);


--
-- Name: changes_p3 changes_p3_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.changes_p3
    ADD CONSTRAINT changes_p3_pkey PRIMARY KEY (user_id, modseq);


--
-- Name: dkim_keys dkim_keys_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.dkim_keys
    ADD CONSTRAINT dkim_keys_pkey PRIMARY KEY (domain, selector);


--
-- Name: domains domains_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.domains
    ADD CONSTRAINT domains_pkey PRIMARY KEY (name);


--
-- Name: kv kv_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.kv
    ADD CONSTRAINT kv_pkey PRIMARY KEY (key);


--
-- Name: mailboxes mailboxes_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.mailboxes
    ADD CONSTRAINT mailboxes_pkey PRIMARY KEY (user_id, id);


--
-- Name: mailboxes_p0 mailboxes_p0_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.mailboxes_p0
    ADD CONSTRAINT mailboxes_p0_pkey PRIMARY KEY (user_id, id);


--
-- Name: mailboxes_p1 mailboxes_p1_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.mailboxes_p1
    ADD CONSTRAINT mailboxes_p1_pkey PRIMARY KEY (user_id, id);


--
-- Name: mailboxes_p2 mailboxes_p2_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.mailboxes_p2
    ADD CONSTRAINT mailboxes_p2_pkey PRIMARY KEY (user_id, id);


--
-- Name: mailboxes_p3 mailboxes_p3_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.mailboxes_p3
    ADD CONSTRAINT mailboxes_p3_pkey PRIMARY KEY (user_id, id);


--
-- Name: messages messages_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.messages
    ADD CONSTRAINT messages_pkey PRIMARY KEY (user_id, id);


--
-- Name: messages_p0 messages_p0_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.messages_p0
    ADD CONSTRAINT messages_p0_pkey PRIMARY KEY (user_id, id);


--
-- Name: messages_p1 messages_p1_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.messages_p1
    ADD CONSTRAINT messages_p1_pkey PRIMARY KEY (user_id, id);


--
-- Name: messages_p2 messages_p2_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.messages_p2
    ADD CONSTRAINT messages_p2_pkey PRIMARY KEY (user_id, id);


--
-- Name: messages_p3 messages_p3_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.messages_p3
    ADD CONSTRAINT messages_p3_pkey PRIMARY KEY (user_id, id);


--
-- Name: queue queue_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.queue
    ADD CONSTRAINT queue_pkey PRIMARY KEY (id);


--
-- Name: schema_migrations schema_migrations_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.schema_migrations
    ADD CONSTRAINT schema_migrations_pkey PRIMARY KEY (version);


--
-- Name: search search_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.search
    ADD CONSTRAINT search_pkey PRIMARY KEY (user_id, message_id);


--
-- Name: search_p0 search_p0_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.search_p0
    ADD CONSTRAINT search_p0_pkey PRIMARY KEY (user_id, message_id);


--
-- Name: search_p1 search_p1_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.search_p1
    ADD CONSTRAINT search_p1_pkey PRIMARY KEY (user_id, message_id);


--
-- Name: search_p2 search_p2_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.search_p2
    ADD CONSTRAINT search_p2_pkey PRIMARY KEY (user_id, message_id);


--
-- Name: search_p3 search_p3_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.search_p3
    ADD CONSTRAINT search_p3_pkey PRIMARY KEY (user_id, message_id);


--
-- Name: sessions sessions_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.sessions
    ADD CONSTRAINT sessions_pkey PRIMARY KEY (token_hash);


--
-- Name: thread_refs thread_refs_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.thread_refs
    ADD CONSTRAINT thread_refs_pkey PRIMARY KEY (user_id, msgid);


--
-- Name: thread_refs_p0 thread_refs_p0_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.thread_refs_p0
    ADD CONSTRAINT thread_refs_p0_pkey PRIMARY KEY (user_id, msgid);


--
-- Name: thread_refs_p1 thread_refs_p1_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.thread_refs_p1
    ADD CONSTRAINT thread_refs_p1_pkey PRIMARY KEY (user_id, msgid);


--
-- Name: thread_refs_p2 thread_refs_p2_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.thread_refs_p2
    ADD CONSTRAINT thread_refs_p2_pkey PRIMARY KEY (user_id, msgid);


--
-- Name: thread_refs_p3 thread_refs_p3_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.thread_refs_p3
    ADD CONSTRAINT thread_refs_p3_pkey PRIMARY KEY (user_id, msgid);


--
-- Name: threads threads_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.threads
    ADD CONSTRAINT threads_pkey PRIMARY KEY (user_id, id);


--
-- Name: threads_p0 threads_p0_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.threads_p0
    ADD CONSTRAINT threads_p0_pkey PRIMARY KEY (user_id, id);


--
-- Name: threads_p1 threads_p1_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.threads_p1
    ADD CONSTRAINT threads_p1_pkey PRIMARY KEY (user_id, id);


--
-- Name: threads_p2 threads_p2_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.threads_p2
    ADD CONSTRAINT threads_p2_pkey PRIMARY KEY (user_id, id);


--
-- Name: threads_p3 threads_p3_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.threads_p3
    ADD CONSTRAINT threads_p3_pkey PRIMARY KEY (user_id, id);


--
-- Name: training training_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.training
    ADD CONSTRAINT training_pkey PRIMARY KEY (user_id, id);


--
-- Name: training_p0 training_p0_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.training_p0
    ADD CONSTRAINT training_p0_pkey PRIMARY KEY (user_id, id);


--
-- Name: training_p1 training_p1_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.training_p1
    ADD CONSTRAINT training_p1_pkey PRIMARY KEY (user_id, id);


--
-- Name: training_p2 training_p2_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.training_p2
    ADD CONSTRAINT training_p2_pkey PRIMARY KEY (user_id, id);


--
-- Name: training_p3 training_p3_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.training_p3
    ADD CONSTRAINT training_p3_pkey PRIMARY KEY (user_id, id);


--
-- Name: users users_address_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.users
    ADD CONSTRAINT users_address_key UNIQUE (address);


--
-- Name: users users_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.users
    ADD CONSTRAINT users_pkey PRIMARY KEY (id);


--
-- Name: blobs_zero; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX blobs_zero ON public.blobs USING btree (zero_since) WHERE (refcount = 0);


--
-- Name: mailboxes_name; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX mailboxes_name ON ONLY public.mailboxes USING btree (user_id, name);


--
-- Name: mailboxes_p0_user_id_name_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX mailboxes_p0_user_id_name_idx ON public.mailboxes_p0 USING btree (user_id, name);


--
-- Name: mailboxes_role; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX mailboxes_role ON ONLY public.mailboxes USING btree (user_id, role) WHERE (role <> ''::text);


--
-- Name: mailboxes_p0_user_id_role_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX mailboxes_p0_user_id_role_idx ON public.mailboxes_p0 USING btree (user_id, role) WHERE (role <> ''::text);


--
-- Name: mailboxes_p1_user_id_name_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX mailboxes_p1_user_id_name_idx ON public.mailboxes_p1 USING btree (user_id, name);


--
-- Name: mailboxes_p1_user_id_role_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX mailboxes_p1_user_id_role_idx ON public.mailboxes_p1 USING btree (user_id, role) WHERE (role <> ''::text);


--
-- Name: mailboxes_p2_user_id_name_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX mailboxes_p2_user_id_name_idx ON public.mailboxes_p2 USING btree (user_id, name);


--
-- Name: mailboxes_p2_user_id_role_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX mailboxes_p2_user_id_role_idx ON public.mailboxes_p2 USING btree (user_id, role) WHERE (role <> ''::text);


--
-- Name: mailboxes_p3_user_id_name_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX mailboxes_p3_user_id_name_idx ON public.mailboxes_p3 USING btree (user_id, name);


--
-- Name: mailboxes_p3_user_id_role_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX mailboxes_p3_user_id_role_idx ON public.mailboxes_p3 USING btree (user_id, role) WHERE (role <> ''::text);


--
-- Name: messages_list; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX messages_list ON ONLY public.messages USING btree (user_id, mailbox_id, internal_date DESC, id DESC);


--
-- Name: messages_p0_user_id_mailbox_id_internal_date_id_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX messages_p0_user_id_mailbox_id_internal_date_id_idx ON public.messages_p0 USING btree (user_id, mailbox_id, internal_date DESC, id DESC);


--
-- Name: messages_unseen; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX messages_unseen ON ONLY public.messages USING btree (user_id, mailbox_id, internal_date DESC, id DESC) WHERE (NOT seen);


--
-- Name: messages_p0_user_id_mailbox_id_internal_date_id_idx1; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX messages_p0_user_id_mailbox_id_internal_date_id_idx1 ON public.messages_p0 USING btree (user_id, mailbox_id, internal_date DESC, id DESC) WHERE (NOT seen);


--
-- Name: messages_uid; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX messages_uid ON ONLY public.messages USING btree (user_id, mailbox_id, uid);


--
-- Name: messages_p0_user_id_mailbox_id_uid_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX messages_p0_user_id_mailbox_id_uid_idx ON public.messages_p0 USING btree (user_id, mailbox_id, uid);


--
-- Name: messages_thread; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX messages_thread ON ONLY public.messages USING btree (user_id, thread_id, internal_date, id);


--
-- Name: messages_p0_user_id_thread_id_internal_date_id_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX messages_p0_user_id_thread_id_internal_date_id_idx ON public.messages_p0 USING btree (user_id, thread_id, internal_date, id);


--
-- Name: messages_p1_user_id_mailbox_id_internal_date_id_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX messages_p1_user_id_mailbox_id_internal_date_id_idx ON public.messages_p1 USING btree (user_id, mailbox_id, internal_date DESC, id DESC);


--
-- Name: messages_p1_user_id_mailbox_id_internal_date_id_idx1; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX messages_p1_user_id_mailbox_id_internal_date_id_idx1 ON public.messages_p1 USING btree (user_id, mailbox_id, internal_date DESC, id DESC) WHERE (NOT seen);


--
-- Name: messages_p1_user_id_mailbox_id_uid_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX messages_p1_user_id_mailbox_id_uid_idx ON public.messages_p1 USING btree (user_id, mailbox_id, uid);


--
-- Name: messages_p1_user_id_thread_id_internal_date_id_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX messages_p1_user_id_thread_id_internal_date_id_idx ON public.messages_p1 USING btree (user_id, thread_id, internal_date, id);


--
-- Name: messages_p2_user_id_mailbox_id_internal_date_id_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX messages_p2_user_id_mailbox_id_internal_date_id_idx ON public.messages_p2 USING btree (user_id, mailbox_id, internal_date DESC, id DESC);


--
-- Name: messages_p2_user_id_mailbox_id_internal_date_id_idx1; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX messages_p2_user_id_mailbox_id_internal_date_id_idx1 ON public.messages_p2 USING btree (user_id, mailbox_id, internal_date DESC, id DESC) WHERE (NOT seen);


--
-- Name: messages_p2_user_id_mailbox_id_uid_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX messages_p2_user_id_mailbox_id_uid_idx ON public.messages_p2 USING btree (user_id, mailbox_id, uid);


--
-- Name: messages_p2_user_id_thread_id_internal_date_id_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX messages_p2_user_id_thread_id_internal_date_id_idx ON public.messages_p2 USING btree (user_id, thread_id, internal_date, id);


--
-- Name: messages_p3_user_id_mailbox_id_internal_date_id_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX messages_p3_user_id_mailbox_id_internal_date_id_idx ON public.messages_p3 USING btree (user_id, mailbox_id, internal_date DESC, id DESC);


--
-- Name: messages_p3_user_id_mailbox_id_internal_date_id_idx1; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX messages_p3_user_id_mailbox_id_internal_date_id_idx1 ON public.messages_p3 USING btree (user_id, mailbox_id, internal_date DESC, id DESC) WHERE (NOT seen);


--
-- Name: messages_p3_user_id_mailbox_id_uid_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX messages_p3_user_id_mailbox_id_uid_idx ON public.messages_p3 USING btree (user_id, mailbox_id, uid);


--
-- Name: messages_p3_user_id_thread_id_internal_date_id_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX messages_p3_user_id_thread_id_internal_date_id_idx ON public.messages_p3 USING btree (user_id, thread_id, internal_date, id);


--
-- Name: queue_due; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX queue_due ON public.queue USING btree (next_attempt_at, id) WHERE (state = 'queued'::text);


--
-- Name: search_tsv; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX search_tsv ON ONLY public.search USING gin (tsv);


--
-- Name: search_p0_tsv_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX search_p0_tsv_idx ON public.search_p0 USING gin (tsv);


--
-- Name: search_p1_tsv_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX search_p1_tsv_idx ON public.search_p1 USING gin (tsv);


--
-- Name: search_p2_tsv_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX search_p2_tsv_idx ON public.search_p2 USING gin (tsv);


--
-- Name: search_p3_tsv_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX search_p3_tsv_idx ON public.search_p3 USING gin (tsv);


--
-- Name: sessions_user; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX sessions_user ON public.sessions USING btree (user_id);


--
-- Name: threads_subject; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX threads_subject ON ONLY public.threads USING btree (user_id, subject_norm, id DESC);


--
-- Name: threads_p0_user_id_subject_norm_id_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX threads_p0_user_id_subject_norm_id_idx ON public.threads_p0 USING btree (user_id, subject_norm, id DESC);


--
-- Name: threads_p1_user_id_subject_norm_id_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX threads_p1_user_id_subject_norm_id_idx ON public.threads_p1 USING btree (user_id, subject_norm, id DESC);


--
-- Name: threads_p2_user_id_subject_norm_id_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX threads_p2_user_id_subject_norm_id_idx ON public.threads_p2 USING btree (user_id, subject_norm, id DESC);


--
-- Name: threads_p3_user_id_subject_norm_id_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX threads_p3_user_id_subject_norm_id_idx ON public.threads_p3 USING btree (user_id, subject_norm, id DESC);


--
-- Name: attachments_p0_pkey; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.attachments_pkey ATTACH PARTITION public.attachments_p0_pkey;


--
-- Name: attachments_p1_pkey; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.attachments_pkey ATTACH PARTITION public.attachments_p1_pkey;


--
-- Name: attachments_p2_pkey; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.attachments_pkey ATTACH PARTITION public.attachments_p2_pkey;


--
-- Name: attachments_p3_pkey; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.attachments_pkey ATTACH PARTITION public.attachments_p3_pkey;


--
-- Name: changes_p0_pkey; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.changes_pkey ATTACH PARTITION public.changes_p0_pkey;


--
-- Name: changes_p1_pkey; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.changes_pkey ATTACH PARTITION public.changes_p1_pkey;


--
-- Name: changes_p2_pkey; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.changes_pkey ATTACH PARTITION public.changes_p2_pkey;


--
-- Name: changes_p3_pkey; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.changes_pkey ATTACH PARTITION public.changes_p3_pkey;


--
-- Name: mailboxes_p0_pkey; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.mailboxes_pkey ATTACH PARTITION public.mailboxes_p0_pkey;


--
-- Name: mailboxes_p0_user_id_name_idx; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.mailboxes_name ATTACH PARTITION public.mailboxes_p0_user_id_name_idx;


--
-- Name: mailboxes_p0_user_id_role_idx; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.mailboxes_role ATTACH PARTITION public.mailboxes_p0_user_id_role_idx;


--
-- Name: mailboxes_p1_pkey; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.mailboxes_pkey ATTACH PARTITION public.mailboxes_p1_pkey;


--
-- Name: mailboxes_p1_user_id_name_idx; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.mailboxes_name ATTACH PARTITION public.mailboxes_p1_user_id_name_idx;


--
-- Name: mailboxes_p1_user_id_role_idx; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.mailboxes_role ATTACH PARTITION public.mailboxes_p1_user_id_role_idx;


--
-- Name: mailboxes_p2_pkey; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.mailboxes_pkey ATTACH PARTITION public.mailboxes_p2_pkey;


--
-- Name: mailboxes_p2_user_id_name_idx; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.mailboxes_name ATTACH PARTITION public.mailboxes_p2_user_id_name_idx;


--
-- Name: mailboxes_p2_user_id_role_idx; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.mailboxes_role ATTACH PARTITION public.mailboxes_p2_user_id_role_idx;


--
-- Name: mailboxes_p3_pkey; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.mailboxes_pkey ATTACH PARTITION public.mailboxes_p3_pkey;


--
-- Name: mailboxes_p3_user_id_name_idx; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.mailboxes_name ATTACH PARTITION public.mailboxes_p3_user_id_name_idx;


--
-- Name: mailboxes_p3_user_id_role_idx; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.mailboxes_role ATTACH PARTITION public.mailboxes_p3_user_id_role_idx;


--
-- Name: messages_p0_pkey; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.messages_pkey ATTACH PARTITION public.messages_p0_pkey;


--
-- Name: messages_p0_user_id_mailbox_id_internal_date_id_idx; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.messages_list ATTACH PARTITION public.messages_p0_user_id_mailbox_id_internal_date_id_idx;


--
-- Name: messages_p0_user_id_mailbox_id_internal_date_id_idx1; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.messages_unseen ATTACH PARTITION public.messages_p0_user_id_mailbox_id_internal_date_id_idx1;


--
-- Name: messages_p0_user_id_mailbox_id_uid_idx; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.messages_uid ATTACH PARTITION public.messages_p0_user_id_mailbox_id_uid_idx;


--
-- Name: messages_p0_user_id_thread_id_internal_date_id_idx; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.messages_thread ATTACH PARTITION public.messages_p0_user_id_thread_id_internal_date_id_idx;


--
-- Name: messages_p1_pkey; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.messages_pkey ATTACH PARTITION public.messages_p1_pkey;


--
-- Name: messages_p1_user_id_mailbox_id_internal_date_id_idx; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.messages_list ATTACH PARTITION public.messages_p1_user_id_mailbox_id_internal_date_id_idx;


--
-- Name: messages_p1_user_id_mailbox_id_internal_date_id_idx1; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.messages_unseen ATTACH PARTITION public.messages_p1_user_id_mailbox_id_internal_date_id_idx1;


--
-- Name: messages_p1_user_id_mailbox_id_uid_idx; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.messages_uid ATTACH PARTITION public.messages_p1_user_id_mailbox_id_uid_idx;


--
-- Name: messages_p1_user_id_thread_id_internal_date_id_idx; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.messages_thread ATTACH PARTITION public.messages_p1_user_id_thread_id_internal_date_id_idx;


--
-- Name: messages_p2_pkey; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.messages_pkey ATTACH PARTITION public.messages_p2_pkey;


--
-- Name: messages_p2_user_id_mailbox_id_internal_date_id_idx; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.messages_list ATTACH PARTITION public.messages_p2_user_id_mailbox_id_internal_date_id_idx;


--
-- Name: messages_p2_user_id_mailbox_id_internal_date_id_idx1; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.messages_unseen ATTACH PARTITION public.messages_p2_user_id_mailbox_id_internal_date_id_idx1;


--
-- Name: messages_p2_user_id_mailbox_id_uid_idx; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.messages_uid ATTACH PARTITION public.messages_p2_user_id_mailbox_id_uid_idx;


--
-- Name: messages_p2_user_id_thread_id_internal_date_id_idx; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.messages_thread ATTACH PARTITION public.messages_p2_user_id_thread_id_internal_date_id_idx;


--
-- Name: messages_p3_pkey; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.messages_pkey ATTACH PARTITION public.messages_p3_pkey;


--
-- Name: messages_p3_user_id_mailbox_id_internal_date_id_idx; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.messages_list ATTACH PARTITION public.messages_p3_user_id_mailbox_id_internal_date_id_idx;


--
-- Name: messages_p3_user_id_mailbox_id_internal_date_id_idx1; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.messages_unseen ATTACH PARTITION public.messages_p3_user_id_mailbox_id_internal_date_id_idx1;


--
-- Name: messages_p3_user_id_mailbox_id_uid_idx; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.messages_uid ATTACH PARTITION public.messages_p3_user_id_mailbox_id_uid_idx;


--
-- Name: messages_p3_user_id_thread_id_internal_date_id_idx; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.messages_thread ATTACH PARTITION public.messages_p3_user_id_thread_id_internal_date_id_idx;


--
-- Name: search_p0_pkey; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.search_pkey ATTACH PARTITION public.search_p0_pkey;


--
-- Name: search_p0_tsv_idx; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.search_tsv ATTACH PARTITION public.search_p0_tsv_idx;


--
-- Name: search_p1_pkey; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.search_pkey ATTACH PARTITION public.search_p1_pkey;


--
-- Name: search_p1_tsv_idx; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.search_tsv ATTACH PARTITION public.search_p1_tsv_idx;


--
-- Name: search_p2_pkey; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.search_pkey ATTACH PARTITION public.search_p2_pkey;


--
-- Name: search_p2_tsv_idx; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.search_tsv ATTACH PARTITION public.search_p2_tsv_idx;


--
-- Name: search_p3_pkey; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.search_pkey ATTACH PARTITION public.search_p3_pkey;


--
-- Name: search_p3_tsv_idx; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.search_tsv ATTACH PARTITION public.search_p3_tsv_idx;


--
-- Name: thread_refs_p0_pkey; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.thread_refs_pkey ATTACH PARTITION public.thread_refs_p0_pkey;


--
-- Name: thread_refs_p1_pkey; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.thread_refs_pkey ATTACH PARTITION public.thread_refs_p1_pkey;


--
-- Name: thread_refs_p2_pkey; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.thread_refs_pkey ATTACH PARTITION public.thread_refs_p2_pkey;


--
-- Name: thread_refs_p3_pkey; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.thread_refs_pkey ATTACH PARTITION public.thread_refs_p3_pkey;


--
-- Name: threads_p0_pkey; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.threads_pkey ATTACH PARTITION public.threads_p0_pkey;


--
-- Name: threads_p0_user_id_subject_norm_id_idx; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.threads_subject ATTACH PARTITION public.threads_p0_user_id_subject_norm_id_idx;


--
-- Name: threads_p1_pkey; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.threads_pkey ATTACH PARTITION public.threads_p1_pkey;


--
-- Name: threads_p1_user_id_subject_norm_id_idx; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.threads_subject ATTACH PARTITION public.threads_p1_user_id_subject_norm_id_idx;


--
-- Name: threads_p2_pkey; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.threads_pkey ATTACH PARTITION public.threads_p2_pkey;


--
-- Name: threads_p2_user_id_subject_norm_id_idx; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.threads_subject ATTACH PARTITION public.threads_p2_user_id_subject_norm_id_idx;


--
-- Name: threads_p3_pkey; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.threads_pkey ATTACH PARTITION public.threads_p3_pkey;


--
-- Name: threads_p3_user_id_subject_norm_id_idx; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.threads_subject ATTACH PARTITION public.threads_p3_user_id_subject_norm_id_idx;


--
-- Name: training_p0_pkey; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.training_pkey ATTACH PARTITION public.training_p0_pkey;


--
-- Name: training_p1_pkey; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.training_pkey ATTACH PARTITION public.training_p1_pkey;


--
-- Name: training_p2_pkey; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.training_pkey ATTACH PARTITION public.training_p2_pkey;


--
-- Name: training_p3_pkey; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.training_pkey ATTACH PARTITION public.training_p3_pkey;


--
-- Name: sessions sessions_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.sessions
    ADD CONSTRAINT sessions_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id) ON DELETE CASCADE;


--
-- PostgreSQL database dump complete
--

\unrestrict VFQv1V1fUX4lxnLCWhK2zkmHm9Q6sT4FnOX4WJ6tVuoKkj5asxXdbhp9gnsgntu

