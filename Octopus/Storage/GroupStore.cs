using System.Data.Common;
using Dapper;
using Octopus.Domain;

namespace Octopus.Storage;

/// <summary>Groups (table `relay_groups`: GROUP is reserved in MySQL) and their members in order.</summary>
internal sealed class GroupStore(Database db)
{
    private const string Entity = "group";
    private const string GroupColumns = "id, name, mode, settings, aliases, visible, created_at, updated_at";
    private const string MemberColumns = "id, group_id, channel_id, model, priority, weight, pinned";

    public Task<IReadOnlyList<Group>> ListAsync(CancellationToken ct) =>
        db.RunAsync<IReadOnlyList<Group>>(Entity, async conn => await LoadAsync(conn, null, null), ct);

    public Task<Group?> GetAsync(long id, CancellationToken ct) =>
        db.RunAsync(Entity, async conn => (await LoadAsync(conn, null, id)).FirstOrDefault(), ct);

    public Task<Group> CreateAsync(Group group, CancellationToken ct) =>
        db.TransactAsync(Entity, async (conn, tx) =>
        {
            var id = await InsertAsync(db, conn, tx, group, keepIds: false);
            return (await LoadAsync(conn, tx, id))[0];
        }, ct);

    /// <summary>
    /// Replaces the group's fields and members. Members carrying an existing id are updated in place (their id
    /// survives), members without id are added, the rest removed. null = not found.
    /// </summary>
    public Task<Group?> UpdateAsync(Group group, CancellationToken ct) =>
        db.TransactAsync<Group?>(Entity, async (conn, tx) =>
        {
            var n = await conn.ExecuteAsync("""
                UPDATE relay_groups SET name = @Name, mode = @Mode, settings = @Settings, aliases = @Aliases, visible = @Visible, updated_at = @UpdatedAt
                WHERE id = @Id
                """, new
            {
                group.Id,
                group.Name,
                Mode = group.Mode.ToWire(),
                Settings = JsonColumn.Write(group.Settings),
                Aliases = JsonColumn.Write(group.Aliases),
                group.Visible,
                UpdatedAt = Database.NowMs(),
                Cancel = ct,
            }, tx);
            if (n == 0) return null;

            var existing = (await conn.QueryAsync<long>("SELECT id FROM group_members WHERE group_id = @Id", new { group.Id, Cancel = ct }, tx)).ToHashSet();
            var kept = new HashSet<long>();
            for (var i = 0; i < group.Members.Count; i++)
            {
                var m = group.Members[i];
                if (m.Id > 0 && existing.Contains(m.Id))
                {
                    kept.Add(m.Id);
                    await conn.ExecuteAsync("""
                        UPDATE group_members SET channel_id = @ChannelId, model = @Model, priority = @Priority, weight = @Weight, pinned = @Pinned, sort_order = @Order
                        WHERE id = @Id
                        """, new
                    {
                        m.Id,
                        m.ChannelId,
                        m.Model,
                        Priority = (long)m.Priority,
                        Weight = (long)m.Weight,
                        m.Pinned,
                        Order = (long)i,
                        Cancel = ct,
                    }, tx);
                }
                else
                {
                    await InsertMemberAsync(conn, tx, group.Id, i, m, keepId: false);
                }
            }
            foreach (var id in existing.Where(id => !kept.Contains(id)))
                await conn.ExecuteAsync("DELETE FROM group_members WHERE id = @Id", new { Id = id, Cancel = ct }, tx);

            return (await LoadAsync(conn, tx, group.Id))[0];
        }, ct);

    public Task<bool> DeleteAsync(long id, CancellationToken ct) =>
        db.TransactAsync(Entity, async (conn, tx) =>
        {
            await conn.ExecuteAsync("DELETE FROM group_members WHERE group_id = @Id", new { Id = id, Cancel = ct }, tx);
            return await conn.ExecuteAsync("DELETE FROM relay_groups WHERE id = @Id", new { Id = id, Cancel = ct }, tx) > 0;
        }, ct);

    internal static async Task<long> InsertAsync(Database db, DbConnection conn, DbTransaction tx, Group group, bool keepIds)
    {
        var now = Database.NowMs();
        var args = new
        {
            group.Id,
            group.Name,
            Mode = group.Mode.ToWire(),
            Settings = JsonColumn.Write(group.Settings),
            Aliases = JsonColumn.Write(group.Aliases),
            group.Visible,
            CreatedAt = keepIds && group.CreatedAt > 0 ? group.CreatedAt : now,
            UpdatedAt = keepIds && group.UpdatedAt > 0 ? group.UpdatedAt : now,
        };
        long id;
        if (keepIds && group.Id > 0)
        {
            await conn.ExecuteAsync($"INSERT INTO relay_groups ({GroupColumns}) VALUES (@Id, @Name, @Mode, @Settings, @Aliases, @Visible, @CreatedAt, @UpdatedAt)", args, tx);
            id = group.Id;
        }
        else
        {
            id = await conn.ExecuteScalarAsync<long>(db.ReturningId(
                "INSERT INTO relay_groups (name, mode, settings, aliases, visible, created_at, updated_at) VALUES (@Name, @Mode, @Settings, @Aliases, @Visible, @CreatedAt, @UpdatedAt)"),
                args, tx);
        }
        for (var i = 0; i < group.Members.Count; i++) await InsertMemberAsync(conn, tx, id, i, group.Members[i], keepIds);
        return id;
    }

    private static async Task InsertMemberAsync(DbConnection conn, DbTransaction tx, long groupId, int order, GroupMember m, bool keepId)
    {
        var args = new
        {
            m.Id,
            GroupId = groupId,
            m.ChannelId,
            m.Model,
            Priority = (long)m.Priority,
            Weight = (long)m.Weight,
            m.Pinned,
            Order = (long)order,
        };
        if (keepId && m.Id > 0)
            await conn.ExecuteAsync($"INSERT INTO group_members ({MemberColumns}, sort_order) VALUES (@Id, @GroupId, @ChannelId, @Model, @Priority, @Weight, @Pinned, @Order)", args, tx);
        else
            await conn.ExecuteAsync("INSERT INTO group_members (group_id, channel_id, model, priority, weight, pinned, sort_order) VALUES (@GroupId, @ChannelId, @Model, @Priority, @Weight, @Pinned, @Order)", args, tx);
    }

    internal static async Task<List<Group>> LoadAsync(DbConnection conn, DbTransaction? tx, long? id)
    {
        var args = new { Id = id ?? 0 };
        var rows = (await conn.QueryAsync<GroupRow>(
            $"SELECT {GroupColumns} FROM relay_groups{(id is null ? "" : " WHERE id = @Id")} ORDER BY id", args, tx)).ToList();
        if (rows.Count == 0) return [];
        var members = (await conn.QueryAsync<GroupMemberRow>(
            $"SELECT {MemberColumns} FROM group_members{(id is null ? "" : " WHERE group_id = @Id")} ORDER BY group_id, sort_order, id", args, tx))
            .ToLookup(m => m.GroupId);
        return rows.Select(r =>
        {
            GroupModes.TryParse(r.Mode, out var mode);
            return new Group
            {
                Id = r.Id,
                Name = r.Name,
                Mode = mode,
                Members = members[r.Id].Select(m => new GroupMember
                {
                    Id = m.Id,
                    ChannelId = m.ChannelId,
                    Model = m.Model,
                    Priority = (int)m.Priority,
                    Weight = (int)m.Weight,
                    Pinned = m.Pinned,
                }).ToList(),
                Settings = JsonColumn.ReadGroupSettings(r.Settings),
                Aliases = JsonColumn.ReadList(r.Aliases),
                Visible = r.Visible,
                CreatedAt = r.CreatedAt,
                UpdatedAt = r.UpdatedAt,
            };
        }).ToList();
    }
}
