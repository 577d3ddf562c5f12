using Microsoft.Extensions.Logging.Abstractions;
using Octopus.Domain;
using Octopus.Stats;
using Octopus.Storage;
using Octopus.Tests.Infrastructure;

namespace Octopus.Tests.Stats;

/// <summary>
/// The request-log writer's own thread and lock-free queue, on a real SQLite file: an idle writer wakes for a single
/// log, shutdown writes everything queued, and a full queue drops and counts instead of blocking the relay.
/// </summary>
public sealed class RequestLogWriterTests
{
    private static RequestLog Log()
    {
        var time = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        return new()
        {
            Id = LogIds.Next(time), Time = time, ApiKeyId = 1, GroupName = "g", Status = 200,
            LatencyMs = 3, InputTokens = 2, OutputTokens = 1, ProtocolIn = "openai_chat",
            Attempts = [new RequestAttempt { ChannelId = 1, ChannelName = "c", BaseUrl = "http://127.0.0.1:1/v1", Model = "m", KeyId = 1, Status = 200, DurationMs = 3 }],
        };
    }

    private static async Task<long> CountAsync(Database db)
    {
        await using var conn = await db.OpenAsync(CancellationToken.None);
        await using var cmd = conn.CreateCommand();
        cmd.CommandText = "SELECT count(*) FROM request_logs";
        return Convert.ToInt64(await cmd.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task An_idle_writer_wakes_for_one_log_and_again_for_the_next()
    {
        await using var tdb = await TestDatabase.CreateAsync(DbKind.Sqlite);
        var db = await tdb.OpenMigratedAsync();
        await using var writer = new RequestLogWriter(new RequestLogStore(db), NullLogger<RequestLogWriter>.Instance);
        for (var expected = 1; expected <= 2; expected++)
        {
            await Task.Delay(300); // the writer is asleep on an empty queue
            writer.Enqueue(Log(), null);
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (writer.Written < expected && DateTime.UtcNow < deadline) await Task.Delay(20);
            Assert.Equal(expected, writer.Written);
        }
        Assert.Equal(2, await CountAsync(db));
    }

    [Fact]
    public async Task Drain_writes_every_queued_log_in_batches()
    {
        await using var tdb = await TestDatabase.CreateAsync(DbKind.Sqlite);
        var db = await tdb.OpenMigratedAsync();
        await using var writer = new RequestLogWriter(new RequestLogStore(db), NullLogger<RequestLogWriter>.Instance);
        for (var i = 0; i < 1234; i++) writer.Enqueue(Log(), null);
        await writer.DrainAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);
        Assert.Equal(1234, writer.Written);
        Assert.Equal(0, writer.Queued);
        Assert.Equal(1234, await CountAsync(db));
        writer.Enqueue(Log(), null); // after shutdown: counted as dropped, never silently lost
        Assert.Equal(1, writer.Dropped);
    }

    [Fact]
    public async Task A_batch_whose_ids_another_instance_already_used_is_written_under_new_ids()
    {
        await using var tdb = await TestDatabase.CreateAsync(DbKind.Sqlite);
        var db = await tdb.OpenMigratedAsync();
        var store = new RequestLogStore(db);
        // Another instance with the same instance number wrote this id first.
        var mine = Log() with { RequestedModel = "mine" };
        await store.InsertAsync([mine with { GroupName = "other instance" }], [], CancellationToken.None);
        var instance = LogIds.Instance;

        await using var writer = new RequestLogWriter(store, NullLogger<RequestLogWriter>.Instance);
        var next = Log();
        writer.Enqueue(mine, new RequestBody { LogId = mine.Id, Time = mine.Time, Request = "{\"mine\":true}" });
        writer.Enqueue(next, null);
        await writer.DrainAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);

        Assert.Equal(2, writer.Written);
        Assert.Equal(1, writer.Reminted);
        Assert.Equal(0, writer.WriteFailures);
        Assert.NotEqual(instance, LogIds.Instance);
        Assert.Equal(3, await CountAsync(db));
        Assert.Equal("other instance", (await store.GetAsync(mine.Id, CancellationToken.None))!.Log.GroupName);
        // The writer's batch (both logs) was minted again: new ids under another instance number, nothing else changed.
        var page = await store.QueryAsync(new RequestLogFilter { Group = "g", From = mine.Time, Limit = 10 }, CancellationToken.None);
        Assert.Equal(2, page.Items.Count);
        var rewritten = Assert.Single(page.Items, l => l.RequestedModel == "mine");
        Assert.NotEqual(mine.Id, rewritten.Id);
        // Same time and counter under the new instance number: the id still dates the log (time filters rely on it).
        Assert.Equal(LogIds.WithInstance(mine.Id, LogIds.Instance), rewritten.Id);
        Assert.Single(page.Items, l => l.RequestedModel is null && l.Time == next.Time);
        Assert.Equal(mine with { Id = rewritten.Id, Attempts = [] }, rewritten with { Attempts = [] });
        // The captured body follows its log to the new id.
        Assert.Equal("{\"mine\":true}", (await store.GetAsync(rewritten.Id, CancellationToken.None))!.Body!.Request);
    }

    [Fact]
    public async Task Reminted_logs_that_share_a_time_and_counter_get_distinct_ids()
    {
        // Logs queued across an earlier change of instance number can differ only in it; minted again under one
        // instance number they would clash with each other.
        await using var tdb = await TestDatabase.CreateAsync(DbKind.Sqlite);
        var db = await tdb.OpenMigratedAsync();
        var store = new RequestLogStore(db);
        var a = Log() with { RequestedModel = "a" };
        var b = a with { Id = LogIds.WithInstance(a.Id, LogIds.Instance + 1), RequestedModel = "b" };
        await store.InsertAsync([a with { GroupName = "other instance" }], [], CancellationToken.None);

        await using var writer = new RequestLogWriter(store, NullLogger<RequestLogWriter>.Instance);
        writer.Enqueue(a, null);
        writer.Enqueue(b, null);
        await writer.DrainAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);

        Assert.Equal(2, writer.Written);
        Assert.Equal(0, writer.WriteFailures);
        var page = await store.QueryAsync(new RequestLogFilter { Group = "g", From = a.Time, To = a.Time + 1 }, CancellationToken.None);
        Assert.Equal(["a", "b"], page.Items.Select(l => l.RequestedModel!).Order());
        Assert.All(page.Items, l => Assert.Equal(LogIds.TimeOf(a.Id), LogIds.TimeOf(l.Id)));
    }

    [Fact]
    public async Task A_full_queue_drops_and_counts_while_the_database_refuses()
    {
        await using var tdb = await TestDatabase.CreateAsync(DbKind.Sqlite);
        var db = tdb.Open(); // not migrated: every insert fails, and the writer retries with backoff
        await using var writer = new RequestLogWriter(new RequestLogStore(db), NullLogger<RequestLogWriter>.Instance);
        const int sent = RequestLogWriter.Capacity + 2000;
        for (var i = 0; i < sent; i++) writer.Enqueue(Log(), null);
        // At most one batch (500) left the queue for the failing insert; everything past the bound was dropped.
        Assert.InRange(writer.Queued, RequestLogWriter.Capacity - 500, RequestLogWriter.Capacity);
        Assert.InRange(writer.Dropped, 1500, 2000);
        Assert.Equal(0, writer.Written);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (writer.WriteFailures == 0 && DateTime.UtcNow < deadline) await Task.Delay(20);
        Assert.True(writer.WriteFailures > 0);
    }
}
