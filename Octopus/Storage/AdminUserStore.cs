using Dapper;
using Octopus.Domain;

namespace Octopus.Storage;

internal sealed class AdminUserStore(Database db)
{
    private const string Entity = "admin user";
    private const string Columns = "id, username, password_hash, must_change_password, token_version, created_at, updated_at";

    public Task<long> CountAsync(CancellationToken ct) =>
        db.RunAsync(Entity, async conn => await conn.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM admin_users", new { Cancel = ct }), ct);

    public Task<AdminUser?> GetByUsernameAsync(string username, CancellationToken ct) =>
        db.RunAsync(Entity, async conn =>
        {
            var row = await conn.QueryFirstOrDefaultAsync<AdminUserRow>($"SELECT {Columns} FROM admin_users WHERE username = @Username", new { Username = username, Cancel = ct });
            return row is null ? null : ToUser(row);
        }, ct);

    public Task<AdminUser?> GetAsync(long id, CancellationToken ct) =>
        db.RunAsync(Entity, async conn =>
        {
            var row = await conn.QueryFirstOrDefaultAsync<AdminUserRow>($"SELECT {Columns} FROM admin_users WHERE id = @Id", new { Id = id, Cancel = ct });
            return row is null ? null : ToUser(row);
        }, ct);

    public Task<AdminUser> CreateAsync(AdminUser user, CancellationToken ct) =>
        db.TransactAsync(Entity, async (conn, tx) =>
        {
            var now = Database.NowMs();
            var id = await conn.ExecuteScalarAsync<long>(db.ReturningId("""
                INSERT INTO admin_users (username, password_hash, must_change_password, token_version, created_at, updated_at)
                VALUES (@Username, @PasswordHash, @MustChangePassword, @TokenVersion, @At, @At)
                """), new { user.Username, user.PasswordHash, user.MustChangePassword, user.TokenVersion, At = now }, tx);
            return ToUser(await conn.QuerySingleAsync<AdminUserRow>($"SELECT {Columns} FROM admin_users WHERE id = @Id", new { Id = id, Cancel = ct }, tx));
        }, ct);

    /// <summary>Sets a new hash and bumps token_version, so every token issued before stops working.</summary>
    public Task<AdminUser?> UpdatePasswordAsync(long id, string passwordHash, bool mustChange, CancellationToken ct) =>
        db.TransactAsync(Entity, async (conn, tx) =>
        {
            var n = await conn.ExecuteAsync("""
                UPDATE admin_users SET password_hash = @Hash, must_change_password = @MustChange, token_version = token_version + 1, updated_at = @At
                WHERE id = @Id
                """, new { Id = id, Hash = passwordHash, MustChange = mustChange, At = Database.NowMs(), Cancel = ct }, tx);
            if (n == 0) return null;
            return ToUser(await conn.QuerySingleAsync<AdminUserRow>($"SELECT {Columns} FROM admin_users WHERE id = @Id", new { Id = id, Cancel = ct }, tx));
        }, ct);

    private static AdminUser ToUser(AdminUserRow r) => new()
    {
        Id = r.Id,
        Username = r.Username,
        PasswordHash = r.PasswordHash,
        MustChangePassword = r.MustChangePassword,
        TokenVersion = r.TokenVersion,
        CreatedAt = r.CreatedAt,
        UpdatedAt = r.UpdatedAt,
    };
}
