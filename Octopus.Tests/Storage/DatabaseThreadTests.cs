using Octopus.Storage;
using Octopus.Tests.Infrastructure;

namespace Octopus.Tests.Storage;

/// <summary>
/// With server.inline_completions a PostgreSQL or MySQL reply completes on a socket event thread; the database's
/// callers must resume on the pool. A work step that finishes on a thread of its own stands in for that thread.
/// </summary>
public sealed class DatabaseThreadTests
{
    [Theory]
    [InlineData("postgres")]
    [InlineData("mysql")]
    public async Task Callers_of_a_server_database_resume_on_the_pool_after_work_that_ended_off_it(string kind)
    {
        await using var test = await TestDatabase.CreateAsync(kind == "postgres" ? DbKind.Postgres : DbKind.MySql);
        var db = await test.OpenMigratedAsync();
        // Task.Run: no test synchronization context to post the continuation back to.
        var (run, transact) = await Task.Run(async () =>
        {
            var one = await db.RunAsync("test", async conn =>
            {
                await OffPool.Complete(() => 0);
                return Thread.CurrentThread.IsThreadPoolThread;
            }, default);
            Assert.False(one); // the work itself did end off the pool
            var afterRun = Thread.CurrentThread.IsThreadPoolThread;
            await db.TransactAsync("test", async (conn, tx) =>
            {
                await using (var cmd = conn.CreateCommand())
                {
                    cmd.Transaction = tx;
                    cmd.CommandText = "SELECT 1";
                    await cmd.ExecuteScalarAsync();
                }
                await OffPool.Complete(() => 0);
                return 0;
            }, default);
            return (afterRun, Thread.CurrentThread.IsThreadPoolThread);
        });
        Assert.True(run);
        Assert.True(transact);
    }
}
