using System.Data.Common;
using Dapper;
using Octopus.Domain;

namespace Octopus.Storage;

/// <summary>
/// Prices per (model, source): `synced` rows come from the price source, `user` rows are overrides. Both are kept,
/// so resetting an override falls back to the synced price; readers let `user` win.
/// </summary>
internal sealed class PriceStore(Database db)
{
    private const string Entity = "price";

    public Task<IReadOnlyList<Price>> ListAsync(CancellationToken ct) =>
        db.RunAsync<IReadOnlyList<Price>>(Entity, async conn =>
            (await conn.QueryAsync<PriceRow>(
                "SELECT model, source, input, output, cache_read, cache_write, image, updated_at FROM prices ORDER BY model, source", new { Cancel = ct }))
            .Select(ToPrice).ToList(), ct);

    /// <summary>Upserts synced prices in one transaction; user overrides are untouched.</summary>
    public Task<int> UpsertSyncedAsync(IEnumerable<Price> prices, CancellationToken ct) =>
        db.TransactAsync(Entity, async (conn, tx) =>
        {
            var n = 0;
            var now = Database.NowMs();
            foreach (var p in prices)
            {
                await UpsertAsync(db, conn, tx, p with { Source = PriceSource.Synced, UpdatedAt = p.UpdatedAt > 0 ? p.UpdatedAt : now });
                n++;
            }
            return n;
        }, ct);

    /// <summary>Sets the user's override for the model.</summary>
    public Task SetUserAsync(Price price, CancellationToken ct) =>
        db.TransactAsync(Entity, async (conn, tx) =>
        {
            await UpsertAsync(db, conn, tx, price with { Source = PriceSource.User, UpdatedAt = Database.NowMs() });
            return 0;
        }, ct);

    /// <summary>Removes the user's override; false when there was none.</summary>
    public Task<bool> DeleteUserAsync(string model, CancellationToken ct) =>
        db.RunAsync(Entity, async conn => await conn.ExecuteAsync(
            "DELETE FROM prices WHERE model = @Model AND source = 'user'", new { Model = model, Cancel = ct }) > 0, ct);

    internal static Task UpsertAsync(Database db, DbConnection conn, DbTransaction tx, Price p)
    {
        var sql = db.Kind == DbKind.MySql
            ? """
              INSERT INTO prices (model, source, input, output, cache_read, cache_write, image, updated_at) VALUES (@Model, @Source, @Input, @Output, @CacheRead, @CacheWrite, @Image, @UpdatedAt)
              ON DUPLICATE KEY UPDATE input = VALUES(input), output = VALUES(output), cache_read = VALUES(cache_read), cache_write = VALUES(cache_write), image = VALUES(image), updated_at = VALUES(updated_at)
              """
            : """
              INSERT INTO prices (model, source, input, output, cache_read, cache_write, image, updated_at) VALUES (@Model, @Source, @Input, @Output, @CacheRead, @CacheWrite, @Image, @UpdatedAt)
              ON CONFLICT (model, source) DO UPDATE SET input = excluded.input, output = excluded.output, cache_read = excluded.cache_read,
                  cache_write = excluded.cache_write, image = excluded.image, updated_at = excluded.updated_at
              """;
        return conn.ExecuteAsync(sql, new { p.Model, p.Source, p.Input, p.Output, p.CacheRead, p.CacheWrite, p.Image, p.UpdatedAt }, tx);
    }

    private static Price ToPrice(PriceRow r) => new()
    {
        Model = r.Model,
        Source = r.Source,
        Input = r.Input,
        Output = r.Output,
        CacheRead = r.CacheRead,
        CacheWrite = r.CacheWrite,
        Image = r.Image,
        UpdatedAt = r.UpdatedAt,
    };
}
