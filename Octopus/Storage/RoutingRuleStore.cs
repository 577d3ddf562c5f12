using System.Data.Common;
using System.Text.Json;
using System.Text.Json.Serialization;
using Dapper;
using Octopus.Domain;

namespace Octopus.Storage;

/// <summary>Routing rules (table `routing_rules`); each points at a group by id and goes with it when it is deleted.</summary>
internal sealed class RoutingRuleStore(Database db)
{
    private const string Entity = "route";
    private const string Columns = "id, name, priority, conditions, group_id, created_at, updated_at";

    /// <summary>In evaluation order: priority, then id.</summary>
    public Task<IReadOnlyList<RoutingRule>> ListAsync(CancellationToken ct) =>
        db.RunAsync<IReadOnlyList<RoutingRule>>(Entity, async conn =>
            (await conn.QueryAsync<RoutingRuleRow>($"SELECT {Columns} FROM routing_rules ORDER BY priority, id", new { Cancel = ct })).Select(ToRule).ToList(), ct);

    public Task<RoutingRule?> GetAsync(long id, CancellationToken ct) =>
        db.RunAsync(Entity, async conn =>
        {
            var row = await conn.QueryFirstOrDefaultAsync<RoutingRuleRow>($"SELECT {Columns} FROM routing_rules WHERE id = @Id", new { Id = id, Cancel = ct });
            return row is null ? null : ToRule(row);
        }, ct);

    public Task<RoutingRule> CreateAsync(RoutingRule rule, CancellationToken ct) =>
        db.TransactAsync(Entity, async (conn, tx) =>
        {
            var id = await InsertAsync(db, conn, tx, rule, keepId: false);
            return ToRule(await conn.QuerySingleAsync<RoutingRuleRow>($"SELECT {Columns} FROM routing_rules WHERE id = @Id", new { Id = id, Cancel = ct }, tx));
        }, ct);

    /// <summary>Replaces the rule's fields. null = not found.</summary>
    public Task<RoutingRule?> UpdateAsync(RoutingRule rule, CancellationToken ct) =>
        db.TransactAsync<RoutingRule?>(Entity, async (conn, tx) =>
        {
            var n = await conn.ExecuteAsync("""
                UPDATE routing_rules SET name = @Name, priority = @Priority, conditions = @Conditions, group_id = @GroupId, updated_at = @UpdatedAt
                WHERE id = @Id
                """, new
            {
                rule.Id,
                rule.Name,
                Priority = (long)rule.Priority,
                Conditions = WriteMatch(rule.Match),
                rule.GroupId,
                UpdatedAt = Database.NowMs(),
                Cancel = ct,
            }, tx);
            if (n == 0) return null;
            return ToRule(await conn.QuerySingleAsync<RoutingRuleRow>($"SELECT {Columns} FROM routing_rules WHERE id = @Id", new { rule.Id, Cancel = ct }, tx));
        }, ct);

    public Task<bool> DeleteAsync(long id, CancellationToken ct) =>
        db.RunAsync(Entity, async conn => await conn.ExecuteAsync("DELETE FROM routing_rules WHERE id = @Id", new { Id = id, Cancel = ct }) > 0, ct);

    internal static async Task<long> InsertAsync(Database db, DbConnection conn, DbTransaction tx, RoutingRule rule, bool keepId)
    {
        var now = Database.NowMs();
        var args = new
        {
            rule.Id,
            rule.Name,
            Priority = (long)rule.Priority,
            Conditions = WriteMatch(rule.Match),
            rule.GroupId,
            CreatedAt = keepId && rule.CreatedAt > 0 ? rule.CreatedAt : now,
            UpdatedAt = keepId && rule.UpdatedAt > 0 ? rule.UpdatedAt : now,
        };
        if (keepId && rule.Id > 0)
        {
            await conn.ExecuteAsync($"INSERT INTO routing_rules ({Columns}) VALUES (@Id, @Name, @Priority, @Conditions, @GroupId, @CreatedAt, @UpdatedAt)", args, tx);
            return rule.Id;
        }
        return await conn.ExecuteScalarAsync<long>(db.ReturningId(
            "INSERT INTO routing_rules (name, priority, conditions, group_id, created_at, updated_at) VALUES (@Name, @Priority, @Conditions, @GroupId, @CreatedAt, @UpdatedAt)"),
            args, tx);
    }

    private static string WriteMatch(RouteMatch match) => JsonSerializer.Serialize(match, RouteJsonContext.Default.RouteMatch);

    private static RoutingRule ToRule(RoutingRuleRow r)
    {
        RouteMatch match;
        try { match = JsonSerializer.Deserialize(r.Conditions, RouteJsonContext.Default.RouteMatch) ?? new RouteMatch(); }
        // A damaged value must not silently become "match everything".
        catch (JsonException) { match = new RouteMatch { Model = "re:(?!)" }; }
        return new RoutingRule
        {
            Id = r.Id,
            Name = r.Name,
            Priority = (int)r.Priority,
            Match = match,
            GroupId = r.GroupId,
            CreatedAt = r.CreatedAt,
            UpdatedAt = r.UpdatedAt,
        };
    }
}

internal sealed class RoutingRuleRow
{
    public long Id { get; set; }
    public string Name { get; set; } = "";
    public long Priority { get; set; }
    public string Conditions { get; set; } = "{}";
    public long GroupId { get; set; }
    public long CreatedAt { get; set; }
    public long UpdatedAt { get; set; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(RouteMatch))]
internal sealed partial class RouteJsonContext : JsonSerializerContext;
