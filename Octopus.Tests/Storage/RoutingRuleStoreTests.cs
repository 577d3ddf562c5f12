using Octopus.Domain;
using Octopus.Storage;
using Octopus.Tests.Infrastructure;

namespace Octopus.Tests.Storage;

public sealed class SqliteRoutingRuleStoreTests : RoutingRuleStoreTests
{
    internal override DbKind Kind => DbKind.Sqlite;
}

public sealed class PostgresRoutingRuleStoreTests : RoutingRuleStoreTests
{
    internal override DbKind Kind => DbKind.Postgres;
}

public sealed class MySqlRoutingRuleStoreTests : RoutingRuleStoreTests
{
    internal override DbKind Kind => DbKind.MySql;
}

/// <summary>Routing rules (migration 2) on every database kind; each test gets a fresh database.</summary>
public abstract class RoutingRuleStoreTests : IAsyncLifetime
{
    private static readonly CancellationToken Ct = CancellationToken.None;
    private TestDatabase _test = null!;
    private Database _db = null!;

    internal abstract DbKind Kind { get; }

    public async Task InitializeAsync()
    {
        _test = await TestDatabase.CreateAsync(Kind);
        _db = await _test.OpenMigratedAsync();
    }

    public async Task DisposeAsync() => await _test.DisposeAsync();

    private async Task<(Group A, Group B)> GroupsAsync()
    {
        var groups = new GroupStore(_db);
        return (await groups.CreateAsync(new Group { Name = "a" }, Ct), await groups.CreateAsync(new Group { Name = "b" }, Ct));
    }

    private static readonly RouteMatch FullMatch = new()
    {
        Model = "claude-haiku-*",
        Protocol = "anthropic",
        MinInputTokens = 60_000,
        HasImages = false,
        HasTools = true,
        Thinking = true,
        Header = new() { ["X-Team"] = "re:^ml$", ["User-Agent"] = "claude-cli/*" },
    };

    [Fact]
    public async Task Rules_round_trip_every_condition_and_list_by_priority_then_id()
    {
        var (a, b) = await GroupsAsync();
        var store = new RoutingRuleStore(_db);
        var first = await store.CreateAsync(new RoutingRule { Name = "first", Priority = 5, Match = FullMatch, GroupId = a.Id }, Ct);
        var second = await store.CreateAsync(new RoutingRule { Name = "second", Priority = 1, GroupId = b.Id }, Ct);
        var third = await store.CreateAsync(new RoutingRule { Name = "third", Priority = 5, Match = new RouteMatch { Thinking = false }, GroupId = b.Id }, Ct);

        Assert.True(first.Id > 0 && first.CreatedAt > 0);
        var got = (await store.GetAsync(first.Id, Ct))!;
        Assert.Equal(FullMatch with { Header = null }, got.Match with { Header = null });
        Assert.Equal(FullMatch.Header, got.Match.Header);
        Assert.Equal(new RouteMatch(), (await store.GetAsync(second.Id, Ct))!.Match);
        Assert.Equal(["second", "first", "third"], (await store.ListAsync(Ct)).Select(r => r.Name));

        var updated = await store.UpdateAsync(third with { Priority = 0, GroupId = a.Id, Match = new RouteMatch { Model = "re:^gpt" } }, Ct);
        Assert.Equal(a.Id, updated!.GroupId);
        Assert.Equal("re:^gpt", updated.Match.Model);
        Assert.Null(updated.Match.Thinking);
        Assert.Equal(["third", "second", "first"], (await store.ListAsync(Ct)).Select(r => r.Name));
        Assert.Null(await store.UpdateAsync(third with { Id = 9999 }, Ct));

        Assert.True(await store.DeleteAsync(second.Id, Ct));
        Assert.False(await store.DeleteAsync(second.Id, Ct));
        Assert.Null(await store.GetAsync(second.Id, Ct));
    }

    [Fact]
    public async Task Rule_names_are_unique_and_rules_go_with_their_group()
    {
        var (a, b) = await GroupsAsync();
        var store = new RoutingRuleStore(_db);
        await store.CreateAsync(new RoutingRule { Name = "r", GroupId = a.Id }, Ct);
        var dup = await Assert.ThrowsAsync<DuplicateNameException>(() => store.CreateAsync(new RoutingRule { Name = "r", GroupId = b.Id }, Ct));
        Assert.Equal("name", dup.Field);
        await store.CreateAsync(new RoutingRule { Name = "s", GroupId = b.Id }, Ct);

        Assert.True(await new GroupStore(_db).DeleteAsync(a.Id, Ct));
        Assert.Equal(["s"], (await store.ListAsync(Ct)).Select(r => r.Name));
    }

    [Fact]
    public async Task Backup_replace_restores_rules_with_their_ids()
    {
        var (a, b) = await GroupsAsync();
        var store = new RoutingRuleStore(_db);
        var r = await store.CreateAsync(new RoutingRule { Name = "r", Priority = 3, Match = FullMatch, GroupId = b.Id }, Ct);
        var groups = await new GroupStore(_db).ListAsync(Ct);

        await new BackupStore(_db).ReplaceAsync(new ConfigurationData { Groups = groups, Routes = [r with { Name = "restored" }] }, Ct);
        var restored = Assert.Single(await store.ListAsync(Ct));
        Assert.Equal(r.Id, restored.Id);
        Assert.Equal("restored", restored.Name);
        Assert.Equal(b.Id, restored.GroupId);
        Assert.Equal(r.CreatedAt, restored.CreatedAt);
        // Sequences moved past restored ids.
        var next = await store.CreateAsync(new RoutingRule { Name = "next", GroupId = a.Id }, Ct);
        Assert.True(next.Id > r.Id);
    }
}
