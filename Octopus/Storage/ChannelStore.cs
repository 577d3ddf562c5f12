using System.Data.Common;
using Dapper;
using Octopus.Domain;

namespace Octopus.Storage;

/// <summary>Channels with their base URLs and keys (both kept in the user's order).</summary>
internal sealed class ChannelStore(Database db)
{
    private const string Entity = "channel";

    private const string ChannelColumns =
        "id, name, type, enabled, models, synced_models, auto_sync, model_filter, headers, proxy, param_override, probe_policy, add_cache_breakpoints, created_at, updated_at";

    public Task<IReadOnlyList<Channel>> ListAsync(CancellationToken ct) =>
        db.RunAsync<IReadOnlyList<Channel>>(Entity, async conn => await LoadAsync(conn, null, null, ct), ct);

    public Task<Channel?> GetAsync(long id, CancellationToken ct) =>
        db.RunAsync(Entity, async conn => (await LoadAsync(conn, null, id, ct)).FirstOrDefault(), ct);

    /// <summary>Inserts the channel, its base URLs and keys; returns it with the new ids and times.</summary>
    public Task<Channel> CreateAsync(Channel channel, CancellationToken ct) =>
        db.TransactAsync(Entity, async (conn, tx) =>
        {
            var id = await InsertAsync(db, conn, tx, channel, keepIds: false, ct);
            return (await LoadAsync(conn, tx, id, ct))[0];
        }, ct);

    /// <summary>
    /// Replaces the channel's fields, base URLs and keys. Keys that carry an existing id keep their status (and
    /// their secret when the given one is empty); keys without id are added; the rest are removed. null = not found.
    /// </summary>
    public Task<Channel?> UpdateAsync(Channel channel, CancellationToken ct) =>
        db.TransactAsync<Channel?>(Entity, async (conn, tx) =>
        {
            var now = Database.NowMs();
            var n = await conn.ExecuteAsync("""
                UPDATE channels SET name = @Name, type = @Type, enabled = @Enabled, models = @Models, synced_models = @SyncedModels,
                    auto_sync = @AutoSync, model_filter = @ModelFilter, headers = @Headers, proxy = @Proxy, param_override = @ParamOverride,
                    probe_policy = @ProbePolicy, add_cache_breakpoints = @AddCacheBreakpoints, updated_at = @UpdatedAt
                WHERE id = @Id
                """, new
            {
                channel.Id,
                channel.Name,
                Type = channel.Type.ToWire(),
                channel.Enabled,
                Models = JsonColumn.Write(channel.Models),
                SyncedModels = JsonColumn.Write(channel.SyncedModels),
                channel.AutoSync,
                channel.ModelFilter,
                Headers = JsonColumn.Write(channel.Headers),
                channel.Proxy,
                channel.ParamOverride,
                channel.ProbePolicy,
                channel.AddCacheBreakpoints,
                UpdatedAt = now,
                Cancel = ct,
            }, tx);
            if (n == 0) return null;

            await conn.ExecuteAsync("DELETE FROM channel_base_urls WHERE channel_id = @Id", new { channel.Id, Cancel = ct }, tx);
            await InsertBaseUrlsAsync(conn, tx, channel.Id, channel.BaseUrls, keepIds: false, ct);
            await conn.ExecuteAsync("DELETE FROM channel_endpoints WHERE channel_id = @Id", new { channel.Id, Cancel = ct }, tx);
            await InsertEndpointsAsync(conn, tx, channel.Id, channel.Endpoints, ct);

            var existing = (await conn.QueryAsync<ChannelKeyRow>(
                "SELECT id, channel_id, secret, enabled, status, status_reason, status_at, remark FROM channel_keys WHERE channel_id = @Id",
                new { channel.Id, Cancel = ct }, tx)).ToDictionary(k => k.Id);
            var kept = new HashSet<long>();
            for (var i = 0; i < channel.Keys.Count; i++)
            {
                var key = channel.Keys[i];
                if (key.Id > 0 && existing.TryGetValue(key.Id, out var old))
                {
                    kept.Add(key.Id);
                    await conn.ExecuteAsync("""
                        UPDATE channel_keys SET sort_order = @Order, secret = @Secret, enabled = @Enabled, remark = @Remark WHERE id = @Id
                        """, new
                    {
                        key.Id,
                        Order = (long)i,
                        Secret = string.IsNullOrEmpty(key.Secret) ? old.Secret : key.Secret,
                        key.Enabled,
                        key.Remark,
                        Cancel = ct,
                    }, tx);
                }
                else
                {
                    if (string.IsNullOrEmpty(key.Secret)) throw new ArgumentException($"key {key.Id} is not a key of channel {channel.Id}");
                    await InsertKeyAsync(conn, tx, channel.Id, i, key with { Id = 0 }, keepId: false, ct);
                }
            }
            foreach (var id in existing.Keys.Where(id => !kept.Contains(id)))
                await conn.ExecuteAsync("DELETE FROM channel_keys WHERE id = @Id", new { Id = id, Cancel = ct }, tx);

            return (await LoadAsync(conn, tx, channel.Id, ct))[0];
        }, ct);

    /// <summary>Deletes the channel; its base URLs, keys and group members go with it.</summary>
    public Task<bool> DeleteAsync(long id, CancellationToken ct) =>
        db.TransactAsync(Entity, async (conn, tx) =>
        {
            // Explicit child deletes: correct even where a driver leaves foreign keys off.
            await conn.ExecuteAsync("DELETE FROM group_members WHERE channel_id = @Id", new { Id = id, Cancel = ct }, tx);
            await conn.ExecuteAsync("DELETE FROM channel_keys WHERE channel_id = @Id", new { Id = id, Cancel = ct }, tx);
            await conn.ExecuteAsync("DELETE FROM channel_base_urls WHERE channel_id = @Id", new { Id = id, Cancel = ct }, tx);
            await conn.ExecuteAsync("DELETE FROM channel_endpoints WHERE channel_id = @Id", new { Id = id, Cancel = ct }, tx);
            return await conn.ExecuteAsync("DELETE FROM channels WHERE id = @Id", new { Id = id, Cancel = ct }, tx) > 0;
        }, ct);

    /// <summary>Sets a key active or set aside (with the reason and when). false = no such key.</summary>
    public Task<bool> UpdateKeyStatusAsync(long keyId, string status, string? reason, long atMs, CancellationToken ct) =>
        db.RunAsync(Entity, async conn => await conn.ExecuteAsync(
            "UPDATE channel_keys SET status = @Status, status_reason = @Reason, status_at = @At WHERE id = @Id",
            new { Id = keyId, Status = status, Reason = reason, At = atMs, Cancel = ct }) > 0, ct);

    /// <summary>Stores the result of a model sync. false = no such channel.</summary>
    public Task<bool> UpdateSyncedModelsAsync(long channelId, IReadOnlyList<string> models, CancellationToken ct) =>
        db.RunAsync(Entity, async conn => await conn.ExecuteAsync(
            "UPDATE channels SET synced_models = @Models, updated_at = @At WHERE id = @Id",
            new { Id = channelId, Models = JsonColumn.Write(models), At = Database.NowMs(), Cancel = ct }) > 0, ct);

    internal static async Task<long> InsertAsync(Database db, DbConnection conn, DbTransaction tx, Channel channel, bool keepIds, CancellationToken ct)
    {
        var now = Database.NowMs();
        var args = new
        {
            Id = channel.Id,
            channel.Name,
            Type = channel.Type.ToWire(),
            channel.Enabled,
            Models = JsonColumn.Write(channel.Models),
            SyncedModels = JsonColumn.Write(channel.SyncedModels),
            channel.AutoSync,
            channel.ModelFilter,
            Headers = JsonColumn.Write(channel.Headers),
            channel.Proxy,
            channel.ParamOverride,
            channel.ProbePolicy,
            channel.AddCacheBreakpoints,
            CreatedAt = keepIds && channel.CreatedAt > 0 ? channel.CreatedAt : now,
            UpdatedAt = keepIds && channel.UpdatedAt > 0 ? channel.UpdatedAt : now,
        };
        long id;
        if (keepIds && channel.Id > 0)
        {
            await conn.ExecuteAsync($"""
                INSERT INTO channels ({ChannelColumns})
                VALUES (@Id, @Name, @Type, @Enabled, @Models, @SyncedModels, @AutoSync, @ModelFilter, @Headers, @Proxy, @ParamOverride, @ProbePolicy, @AddCacheBreakpoints, @CreatedAt, @UpdatedAt)
                """, args, tx);
            id = channel.Id;
        }
        else
        {
            id = await conn.ExecuteScalarAsync<long>(db.ReturningId("""
                INSERT INTO channels (name, type, enabled, models, synced_models, auto_sync, model_filter, headers, proxy, param_override, probe_policy, add_cache_breakpoints, created_at, updated_at)
                VALUES (@Name, @Type, @Enabled, @Models, @SyncedModels, @AutoSync, @ModelFilter, @Headers, @Proxy, @ParamOverride, @ProbePolicy, @AddCacheBreakpoints, @CreatedAt, @UpdatedAt)
                """), args, tx);
        }
        await InsertBaseUrlsAsync(conn, tx, id, channel.BaseUrls, keepIds, ct);
        await InsertEndpointsAsync(conn, tx, id, channel.Endpoints, ct);
        for (var i = 0; i < channel.Keys.Count; i++) await InsertKeyAsync(conn, tx, id, i, channel.Keys[i], keepIds, ct);
        return id;
    }

    private static async Task InsertBaseUrlsAsync(DbConnection conn, DbTransaction tx, long channelId, IReadOnlyList<ChannelBaseUrl> urls, bool keepIds, CancellationToken ct)
    {
        for (var i = 0; i < urls.Count; i++)
        {
            var args = new { Id = urls[i].Id, ChannelId = channelId, Order = (long)i, urls[i].Url, Cancel = ct };
            if (keepIds && urls[i].Id > 0)
                await conn.ExecuteAsync("INSERT INTO channel_base_urls (id, channel_id, sort_order, url) VALUES (@Id, @ChannelId, @Order, @Url)", args, tx);
            else
                await conn.ExecuteAsync("INSERT INTO channel_base_urls (channel_id, sort_order, url) VALUES (@ChannelId, @Order, @Url)", args, tx);
        }
    }

    private static async Task InsertEndpointsAsync(DbConnection conn, DbTransaction tx, long channelId, IReadOnlyList<ChannelEndpoint> endpoints, CancellationToken ct)
    {
        var order = 0L;
        foreach (var e in endpoints)
        {
            foreach (var u in e.BaseUrls)
            {
                await conn.ExecuteAsync("INSERT INTO channel_endpoints (channel_id, sort_order, type, url) VALUES (@ChannelId, @Order, @Type, @Url)",
                    new { ChannelId = channelId, Order = order++, Type = e.Type.ToWire(), u.Url, Cancel = ct }, tx);
            }
        }
    }

    private static async Task InsertKeyAsync(DbConnection conn, DbTransaction tx, long channelId, int order, ChannelKey key, bool keepId, CancellationToken ct)
    {
        var args = new
        {
            key.Id,
            ChannelId = channelId,
            Order = (long)order,
            key.Secret,
            key.Enabled,
            Status = string.IsNullOrEmpty(key.Status) ? KeyStatus.Active : key.Status,
            key.StatusReason,
            key.StatusAt,
            key.Remark,
            Cancel = ct,
        };
        if (keepId && key.Id > 0)
            await conn.ExecuteAsync("""
                INSERT INTO channel_keys (id, channel_id, sort_order, secret, enabled, status, status_reason, status_at, remark)
                VALUES (@Id, @ChannelId, @Order, @Secret, @Enabled, @Status, @StatusReason, @StatusAt, @Remark)
                """, args, tx);
        else
            await conn.ExecuteAsync("""
                INSERT INTO channel_keys (channel_id, sort_order, secret, enabled, status, status_reason, status_at, remark)
                VALUES (@ChannelId, @Order, @Secret, @Enabled, @Status, @StatusReason, @StatusAt, @Remark)
                """, args, tx);
    }

    internal static async Task<List<Channel>> LoadAsync(DbConnection conn, DbTransaction? tx, long? id, CancellationToken ct)
    {
        var where = id is null ? "" : " WHERE id = @Id";
        var childWhere = id is null ? "" : " WHERE channel_id = @Id";
        var args = new { Id = id ?? 0 };
        var rows = (await conn.QueryAsync<ChannelRow>($"SELECT {ChannelColumns} FROM channels{where} ORDER BY id", args, tx)).ToList();
        if (rows.Count == 0) return [];
        var urls = (await conn.QueryAsync<ChannelBaseUrlRow>(
            $"SELECT id, channel_id, url FROM channel_base_urls{childWhere} ORDER BY channel_id, sort_order, id", args, tx))
            .ToLookup(u => u.ChannelId);
        var keys = (await conn.QueryAsync<ChannelKeyRow>(
            $"SELECT id, channel_id, secret, enabled, status, status_reason, status_at, remark FROM channel_keys{childWhere} ORDER BY channel_id, sort_order, id", args, tx))
            .ToLookup(k => k.ChannelId);
        var endpoints = (await conn.QueryAsync<ChannelEndpointRow>(
            $"SELECT id, channel_id, type, url FROM channel_endpoints{childWhere} ORDER BY channel_id, sort_order, id", args, tx))
            .ToLookup(e => e.ChannelId);
        return rows.Select(r => ToChannel(r, urls[r.Id], keys[r.Id]) with { Endpoints = ToEndpoints(endpoints[r.Id]) }).ToList();
    }

    /// <summary>Rows of one type form one endpoint, in the order the types first appear.</summary>
    private static List<ChannelEndpoint> ToEndpoints(IEnumerable<ChannelEndpointRow> rows)
    {
        var list = new List<ChannelEndpoint>();
        foreach (var g in rows.GroupBy(e => e.Type, StringComparer.Ordinal))
        {
            if (!ChannelTypes.TryParse(g.Key, out var type)) continue;
            list.Add(new ChannelEndpoint { Type = type, BaseUrls = g.Select(e => new ChannelBaseUrl { Id = e.Id, Url = e.Url }).ToList() });
        }
        return list;
    }

    private static Channel ToChannel(ChannelRow r, IEnumerable<ChannelBaseUrlRow> urls, IEnumerable<ChannelKeyRow> keys)
    {
        ChannelTypes.TryParse(r.Type, out var type);
        return new Channel
        {
            Id = r.Id,
            Name = r.Name,
            Type = type,
            Enabled = r.Enabled,
            BaseUrls = urls.Select(u => new ChannelBaseUrl { Id = u.Id, Url = u.Url }).ToList(),
            Keys = keys.Select(k => new ChannelKey
            {
                Id = k.Id,
                Secret = k.Secret,
                Enabled = k.Enabled,
                Status = k.Status,
                StatusReason = k.StatusReason,
                StatusAt = k.StatusAt,
                Remark = k.Remark,
            }).ToList(),
            Models = JsonColumn.ReadList(r.Models),
            SyncedModels = JsonColumn.ReadList(r.SyncedModels),
            AutoSync = r.AutoSync,
            ModelFilter = r.ModelFilter,
            Headers = JsonColumn.ReadMap(r.Headers),
            Proxy = r.Proxy,
            ParamOverride = r.ParamOverride,
            ProbePolicy = r.ProbePolicy,
            AddCacheBreakpoints = r.AddCacheBreakpoints,
            CreatedAt = r.CreatedAt,
            UpdatedAt = r.UpdatedAt,
        };
    }
}
