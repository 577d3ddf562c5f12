namespace Octopus.Storage.Migrations;

/// <summary>
/// Every migration, oldest first. Never edit one that has shipped: add a new version. Times are BIGINT unix ms,
/// lists and maps are JSON text, booleans are BOOLEAN (SQLite: INTEGER 0/1).
/// </summary>
internal static class Schema
{
    public static readonly IReadOnlyList<Migration> All =
    [
        new(1, "initial schema",
        [
            new SqlStep("""
                CREATE TABLE IF NOT EXISTS admin_users (
                    id {id},
                    username {str} NOT NULL,
                    password_hash {text} NOT NULL,
                    must_change_password {bool} NOT NULL,
                    token_version BIGINT NOT NULL DEFAULT 0,
                    created_at BIGINT NOT NULL,
                    updated_at BIGINT NOT NULL,
                    CONSTRAINT ux_admin_users_username UNIQUE (username)
                ) {opts}
                """),
            new SqlStep("""
                CREATE TABLE IF NOT EXISTS channels (
                    id {id},
                    name {str} NOT NULL,
                    type VARCHAR(32) NOT NULL,
                    enabled {bool} NOT NULL,
                    models {text} NOT NULL,
                    synced_models {text} NOT NULL,
                    auto_sync {bool} NOT NULL,
                    model_filter {text} NULL,
                    headers {text} NOT NULL,
                    proxy {text} NULL,
                    param_override {text} NULL,
                    probe_policy VARCHAR(32) NOT NULL,
                    add_cache_breakpoints {bool} NOT NULL,
                    created_at BIGINT NOT NULL,
                    updated_at BIGINT NOT NULL,
                    CONSTRAINT ux_channels_name UNIQUE (name)
                ) {opts}
                """),
            new SqlStep("""
                CREATE TABLE IF NOT EXISTS channel_base_urls (
                    id {id},
                    channel_id BIGINT NOT NULL,
                    sort_order BIGINT NOT NULL,
                    url {text} NOT NULL,
                    CONSTRAINT fk_channel_base_urls_channel FOREIGN KEY (channel_id) REFERENCES channels (id) ON DELETE CASCADE
                ) {opts}
                """),
            new IndexStep("ix_channel_base_urls_channel", "channel_base_urls", "channel_id, sort_order"),
            new SqlStep("""
                CREATE TABLE IF NOT EXISTS channel_keys (
                    id {id},
                    channel_id BIGINT NOT NULL,
                    sort_order BIGINT NOT NULL,
                    secret {text} NOT NULL,
                    enabled {bool} NOT NULL,
                    status VARCHAR(16) NOT NULL,
                    status_reason {text} NULL,
                    status_at BIGINT NULL,
                    remark {text} NULL,
                    CONSTRAINT fk_channel_keys_channel FOREIGN KEY (channel_id) REFERENCES channels (id) ON DELETE CASCADE
                ) {opts}
                """),
            new IndexStep("ix_channel_keys_channel", "channel_keys", "channel_id, sort_order"),
            new SqlStep("""
                CREATE TABLE IF NOT EXISTS relay_groups (
                    id {id},
                    name {str} NOT NULL,
                    mode VARCHAR(32) NOT NULL,
                    settings {text} NOT NULL,
                    aliases {text} NOT NULL,
                    visible {bool} NOT NULL,
                    created_at BIGINT NOT NULL,
                    updated_at BIGINT NOT NULL,
                    CONSTRAINT ux_relay_groups_name UNIQUE (name)
                ) {opts}
                """),
            new SqlStep("""
                CREATE TABLE IF NOT EXISTS group_members (
                    id {id},
                    group_id BIGINT NOT NULL,
                    channel_id BIGINT NOT NULL,
                    model {str} NOT NULL,
                    priority BIGINT NOT NULL,
                    weight BIGINT NOT NULL,
                    pinned {bool} NOT NULL,
                    sort_order BIGINT NOT NULL,
                    CONSTRAINT fk_group_members_group FOREIGN KEY (group_id) REFERENCES relay_groups (id) ON DELETE CASCADE,
                    CONSTRAINT fk_group_members_channel FOREIGN KEY (channel_id) REFERENCES channels (id) ON DELETE CASCADE
                ) {opts}
                """),
            new IndexStep("ix_group_members_group", "group_members", "group_id, sort_order"),
            new IndexStep("ix_group_members_channel", "group_members", "channel_id"),
            new SqlStep("""
                CREATE TABLE IF NOT EXISTS api_keys (
                    id {id},
                    name {str} NOT NULL,
                    key_hash VARCHAR(128) NOT NULL,
                    key_hint {str} NOT NULL,
                    enabled {bool} NOT NULL,
                    expires_at BIGINT NULL,
                    allowed_groups {text} NOT NULL,
                    budget {real} NULL,
                    budget_period VARCHAR(16) NOT NULL,
                    rpm BIGINT NULL,
                    tpm BIGINT NULL,
                    max_concurrency BIGINT NULL,
                    created_at BIGINT NOT NULL,
                    updated_at BIGINT NOT NULL,
                    CONSTRAINT ux_api_keys_name UNIQUE (name),
                    CONSTRAINT ux_api_keys_key_hash UNIQUE (key_hash)
                ) {opts}
                """),
            new SqlStep("""
                CREATE TABLE IF NOT EXISTS prices (
                    model {str} NOT NULL,
                    source VARCHAR(16) NOT NULL,
                    input {real} NOT NULL,
                    output {real} NOT NULL,
                    cache_read {real} NOT NULL,
                    cache_write {real} NOT NULL,
                    updated_at BIGINT NOT NULL,
                    CONSTRAINT prices_pkey PRIMARY KEY (model, source)
                ) {opts}
                """),
            new SqlStep("""
                CREATE TABLE IF NOT EXISTS settings (
                    name {str} NOT NULL PRIMARY KEY,
                    value {text} NOT NULL,
                    updated_at BIGINT NOT NULL
                ) {opts}
                """),
            new SqlStep("""
                CREATE TABLE IF NOT EXISTS stats_hourly (
                    hour BIGINT NOT NULL,
                    api_key_id BIGINT NOT NULL,
                    group_name {str} NOT NULL,
                    channel_id BIGINT NOT NULL,
                    model {str} NOT NULL,
                    requests_ok BIGINT NOT NULL DEFAULT 0,
                    requests_failed BIGINT NOT NULL DEFAULT 0,
                    input_tokens BIGINT NOT NULL DEFAULT 0,
                    output_tokens BIGINT NOT NULL DEFAULT 0,
                    cache_read_tokens BIGINT NOT NULL DEFAULT 0,
                    cache_write_tokens BIGINT NOT NULL DEFAULT 0,
                    reasoning_tokens BIGINT NOT NULL DEFAULT 0,
                    cost {real} NOT NULL DEFAULT 0,
                    latency_ms_total BIGINT NOT NULL DEFAULT 0,
                    ttft_ms_total BIGINT NOT NULL DEFAULT 0,
                    PRIMARY KEY (hour, api_key_id, group_name, channel_id, model)
                ) {opts}
                """),
            new SqlStep("""
                CREATE TABLE IF NOT EXISTS request_logs (
                    id {pk},
                    started_at BIGINT NOT NULL,
                    api_key_id BIGINT NULL,
                    api_key_name {str} NULL,
                    client_ip VARCHAR(64) NULL,
                    requested_model {str} NULL,
                    group_name {str} NULL,
                    channel_id BIGINT NULL,
                    channel_name {str} NULL,
                    upstream_model {str} NULL,
                    status BIGINT NOT NULL,
                    error {text} NULL,
                    latency_ms BIGINT NOT NULL,
                    ttft_ms BIGINT NULL,
                    input_tokens BIGINT NOT NULL,
                    output_tokens BIGINT NOT NULL,
                    cache_read_tokens BIGINT NOT NULL,
                    cache_write_tokens BIGINT NOT NULL,
                    reasoning_tokens BIGINT NOT NULL,
                    cost {real} NOT NULL,
                    stream {bool} NOT NULL,
                    protocol_in VARCHAR(32) NOT NULL,
                    protocol_out VARCHAR(32) NULL,
                    attempts {text} NOT NULL
                ) {opts}
                """),
            new IndexStep("ix_request_logs_started_at", "request_logs", "started_at"),
            new SqlStep("""
                CREATE TABLE IF NOT EXISTS request_bodies (
                    log_id {pk},
                    started_at BIGINT NOT NULL,
                    request {text} NULL,
                    response {text} NULL
                ) {opts}
                """),
            new IndexStep("ix_request_bodies_started_at", "request_bodies", "started_at"),
        ]),
        new(2, "routing rules",
        [
            // `conditions` holds the rule's match object as JSON (MATCH is reserved in MySQL).
            new SqlStep("""
                CREATE TABLE IF NOT EXISTS routing_rules (
                    id {id},
                    name {str} NOT NULL,
                    priority BIGINT NOT NULL,
                    conditions {text} NOT NULL,
                    group_id BIGINT NOT NULL,
                    created_at BIGINT NOT NULL,
                    updated_at BIGINT NOT NULL,
                    CONSTRAINT ux_routing_rules_name UNIQUE (name),
                    CONSTRAINT fk_routing_rules_group FOREIGN KEY (group_id) REFERENCES relay_groups (id) ON DELETE CASCADE
                ) {opts}
                """),
            new IndexStep("ix_routing_rules_group", "routing_rules", "group_id"),
        ]),
        new(3, "api key per-group limits",
        [
            // JSON object: group name -> {rpm, tpm, max_concurrency}; NULL = none.
            new SqlStep("ALTER TABLE api_keys ADD COLUMN group_limits {text} NULL"),
        ]),
        new(4, "multi-protocol channel endpoints, per-image prices",
        [
            // One row per base URL of an extra protocol; rows of one type form that endpoint, in sort_order.
            new SqlStep("""
                CREATE TABLE IF NOT EXISTS channel_endpoints (
                    id {id},
                    channel_id BIGINT NOT NULL,
                    sort_order BIGINT NOT NULL,
                    type VARCHAR(32) NOT NULL,
                    url {text} NOT NULL,
                    CONSTRAINT fk_channel_endpoints_channel FOREIGN KEY (channel_id) REFERENCES channels (id) ON DELETE CASCADE
                ) {opts}
                """),
            new IndexStep("ix_channel_endpoints_channel", "channel_endpoints", "channel_id, sort_order"),
            // USD per generated image, for image models that report no token usage (DALL·E).
            new SqlStep("ALTER TABLE prices ADD COLUMN image {real} NOT NULL DEFAULT 0"),
        ]),
        new(5, "configuration version for several instances",
        [
            // One row; every configuration write bumps it, so other instances on the database see the change.
            new SqlStep("""
                CREATE TABLE IF NOT EXISTS config_version (
                    id BIGINT NOT NULL PRIMARY KEY,
                    version BIGINT NOT NULL,
                    updated_at BIGINT NOT NULL
                ) {opts}
                """),
            new SqlStep("INSERT INTO config_version (id, version, updated_at) VALUES (1, 0, 0)"),
        ]),
        new(6, "request log time filters on the primary key",
        [
            // Log ids are minted on arrival from the arrival time (LogIds), so time filters and retention bound the
            // primary key instead; keeping this index up cost the log writer about a sixth of its time per row.
            new DropIndexStep("ix_request_logs_started_at", "request_logs"),
        ]),
    ];

    /// <summary>Replaces the type placeholders for one dialect.</summary>
    public static string Render(string sql, DbKind kind) => kind switch
    {
        DbKind.Postgres => sql
            .Replace("{id}", "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY")
            .Replace("{pk}", "BIGINT NOT NULL PRIMARY KEY")
            .Replace("{bool}", "BOOLEAN")
            .Replace("{str}", "VARCHAR(255)")
            .Replace("{text}", "TEXT")
            .Replace("{real}", "DOUBLE PRECISION")
            .Replace("{opts}", ""),
        DbKind.MySql => sql
            .Replace("{id}", "BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY")
            .Replace("{pk}", "BIGINT NOT NULL PRIMARY KEY")
            .Replace("{bool}", "BOOLEAN")
            .Replace("{str}", "VARCHAR(255)")
            .Replace("{text}", "LONGTEXT")
            .Replace("{real}", "DOUBLE")
            // Binary collation: names are unique case-sensitively, as in SQLite and PostgreSQL.
            .Replace("{opts}", "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"),
        _ => sql
            .Replace("{id}", "INTEGER PRIMARY KEY AUTOINCREMENT")
            .Replace("{pk}", "INTEGER NOT NULL PRIMARY KEY")
            .Replace("{bool}", "INTEGER")
            .Replace("{str}", "TEXT")
            .Replace("{text}", "TEXT")
            .Replace("{real}", "REAL")
            .Replace("{opts}", ""),
    };
}
