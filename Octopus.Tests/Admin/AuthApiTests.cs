using System.Net;
using System.Text.Json.Nodes;
using Octopus.Admin.Auth;
using Octopus.Storage;
using Octopus.Tests.Infrastructure;

namespace Octopus.Tests.Admin;

public sealed class SqliteAuthApiTests : AuthApiTests
{
    internal override DbKind Kind => DbKind.Sqlite;
}

public sealed class PostgresAuthApiTests : AuthApiTests
{
    internal override DbKind Kind => DbKind.Postgres;
}

public abstract class AuthApiTests
{
    internal abstract DbKind Kind { get; }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    [Fact]
    public async Task Login_with_configured_password_returns_token_expiry_and_no_change_needed()
    {
        await using var server = await TestServer.StartAsync(Kind);
        var (status, body) = await server.Http.PostJsonAsync("/api/v1/auth/login", JsonNode.Parse("""{"username":"admin","password":"test-admin-password"}"""));
        Assert.Equal(200, status);
        Assert.False(string.IsNullOrEmpty(body!["token"]!.GetValue<string>()));
        var expires = DateTimeOffset.Parse(body["expires_at"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(expires - DateTimeOffset.UtcNow, TimeSpan.FromHours(23), TimeSpan.FromHours(25));
        Assert.False(body["must_change_password"]!.GetValue<bool>());

        var wrong = await server.Http.PostJsonAsync("/api/v1/auth/login", JsonNode.Parse("""{"username":"admin","password":"nope"}"""));
        AdminTestBase.AssertError(401, "invalid_credentials", wrong);
        var unknownField = await server.Http.PostJsonAsync("/api/v1/auth/login", JsonNode.Parse("""{"username":"admin","password":"x","remember":true}"""));
        AdminTestBase.AssertError(400, "validation_failed", unknownField, "remember");
    }

    [Fact]
    public async Task Default_admin_must_change_password_before_any_other_admin_route()
    {
        await using var server = await TestServer.StartAsync(Kind, adminPassword: "");
        var (status, login) = await server.Http.PostJsonAsync("/api/v1/auth/login", JsonNode.Parse("""{"username":"admin","password":"admin"}"""));
        Assert.Equal(200, status);
        Assert.True(login!["must_change_password"]!.GetValue<bool>());
        using var first = server.ClientWithToken(login["token"]!.GetValue<string>());

        AdminTestBase.AssertError(403, "password_change_required", await first.GetJsonAsync("/api/v1/channels"));
        AdminTestBase.AssertError(403, "password_change_required", await first.GetJsonAsync("/api/v1/settings"));
        var me = await first.GetJsonAsync("/api/v1/auth/me");
        Assert.Equal(200, me.Status);
        Assert.Equal("admin", me.Body!["username"]!.GetValue<string>());
        Assert.True(me.Body["must_change_password"]!.GetValue<bool>());

        AdminTestBase.AssertError(400, "validation_failed", await first.PostJsonAsync("/api/v1/auth/password", JsonNode.Parse("""{"old_password":"admin","new_password":"short"}""")), "new_password");
        AdminTestBase.AssertError(403, "invalid_credentials", await first.PostJsonAsync("/api/v1/auth/password", JsonNode.Parse("""{"old_password":"wrong","new_password":"a-long-new-password"}""")));
        var changed = await first.PostJsonAsync("/api/v1/auth/password", JsonNode.Parse("""{"old_password":"admin","new_password":"a-long-new-password"}"""));
        Assert.Equal(200, changed.Status);
        Assert.False(changed.Body!["must_change_password"]!.GetValue<bool>());

        // The old token died with the password change; the new one works everywhere.
        AdminTestBase.AssertError(401, "unauthorized", await first.GetJsonAsync("/api/v1/auth/me"));
        using var second = server.ClientWithToken(changed.Body["token"]!.GetValue<string>());
        Assert.Equal(200, (await second.GetJsonAsync("/api/v1/channels")).Status);
        Assert.False((await second.GetJsonAsync("/api/v1/auth/me")).Body!["must_change_password"]!.GetValue<bool>());
        AdminTestBase.AssertError(401, "invalid_credentials", await server.Http.PostJsonAsync("/api/v1/auth/login", JsonNode.Parse("""{"username":"admin","password":"admin"}""")));
        Assert.Equal(200, (await server.Http.PostJsonAsync("/api/v1/auth/login", JsonNode.Parse("""{"username":"admin","password":"a-long-new-password"}"""))).Status);
    }

    [Fact]
    public async Task Missing_forged_and_expired_tokens_get_401()
    {
        await using var server = await TestServer.StartAsync(Kind);
        AdminTestBase.AssertError(401, "unauthorized", await server.Http.GetJsonAsync("/api/v1/channels"));
        using (var garbage = server.ClientWithToken("not-a-token"))
            AdminTestBase.AssertError(401, "unauthorized", await garbage.GetJsonAsync("/api/v1/channels"));

        var token = await server.LoginAsync();
        var forged = token[..^2] + (token[^2] == 'A' ? "B" : "A") + token[^1];
        using (var f = server.ClientWithToken(forged))
            AdminTestBase.AssertError(401, "unauthorized", await f.GetJsonAsync("/api/v1/channels"));

        // Signed with this install's secret, but issued 25 hours ago.
        var settings = await server.Get<SettingStore>().GetAllAsync(CancellationToken.None);
        var old = new TokenService(new FixedTime(DateTimeOffset.UtcNow.AddHours(-25)));
        old.SetSecret(Convert.FromBase64String(settings[AdminAuth.SecretSetting]));
        var user = await server.Get<AdminUserStore>().GetByUsernameAsync("admin", CancellationToken.None);
        using (var expired = server.ClientWithToken(old.Issue(user!.Id, user.TokenVersion).Token))
            AdminTestBase.AssertError(401, "unauthorized", await expired.GetJsonAsync("/api/v1/channels"));

        // A token from another install (other secret) is refused too.
        var other = new TokenService();
        other.SetSecret(new byte[32]);
        using (var foreign = server.ClientWithToken(other.Issue(user.Id, user.TokenVersion).Token))
            AdminTestBase.AssertError(401, "unauthorized", await foreign.GetJsonAsync("/api/v1/channels"));

        using var valid = server.ClientWithToken(token);
        Assert.Equal(200, (await valid.GetJsonAsync("/api/v1/channels")).Status);
    }

    [Fact]
    public async Task Brute_force_login_is_answered_429_with_retry_after_once_the_limit_is_reached()
    {
        await using var server = await TestServer.StartAsync(Kind);
        for (var i = 0; i < LoginRateLimiter.MaxFailures; i++)
            AdminTestBase.AssertError(401, "invalid_credentials",
                await server.Http.PostJsonAsync("/api/v1/auth/login", JsonNode.Parse("""{"username":"admin","password":"guess"}""")));

        using var response = await server.Http.PostAsync("/api/v1/auth/login",
            new StringContent("""{"username":"admin","password":"test-admin-password"}""", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal((HttpStatusCode)429, response.StatusCode);
        Assert.NotNull(response.Headers.RetryAfter);
        Assert.InRange(response.Headers.RetryAfter!.Delta!.Value.TotalSeconds, 1, 300);
        Assert.Contains("too_many_attempts", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Unknown_admin_route_is_a_json_404()
    {
        await using var server = await TestServer.StartAsync(Kind);
        using var admin = await server.AdminClientAsync();
        AdminTestBase.AssertError(404, "not_found", await admin.GetJsonAsync("/api/v1/nothing-here"));
    }
}
