using System.Globalization;
using Octopus.Storage;

namespace Octopus.Admin.Auth;

/// <summary>POST /auth/login, POST /auth/password, GET /auth/me.</summary>
internal static class AuthApi
{
    public static void MapAuth(this RouteGroupBuilder api)
    {
        api.MapPost("/auth/login", Login);
        api.MapPost("/auth/password", ChangePassword).RequireAdmin(allowPendingPasswordChange: true);
        api.MapGet("/auth/me", (HttpContext ctx) =>
        {
            var user = AdminAuth.User(ctx);
            return ApiResults.Json(new MeReply(user.Username, user.MustChangePassword), AdminJsonContext.Default.MeReply);
        }).RequireAdmin(allowPendingPasswordChange: true);
    }

    // Hashing is ~100 ms of CPU, so it runs on the pool: code that read the user from PostgreSQL or MySQL may be on a
    // socket event thread (server.inline_completions), where it would hold up relayed requests. DummyHash, built on
    // first use, is touched only inside that pool work.
    private static readonly string DummyHash = PasswordHasher.Hash(Guid.NewGuid().ToString());

    private static async Task<IResult> Login(HttpContext ctx, AdminUserStore users, TokenService tokens, LoginRateLimiter limiter)
    {
        var ip = ctx.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        if (limiter.RetryAfter(ip) is { } wait)
        {
            ctx.Response.Headers.RetryAfter = Math.Ceiling(wait.TotalSeconds).ToString(CultureInfo.InvariantCulture);
            return ApiResults.Error(429, "too_many_attempts", $"too many failed logins; try again in {Math.Ceiling(wait.TotalSeconds)} seconds");
        }
        var (input, error) = await JsonInput.ReadAsync(ctx, ["username", "password"]);
        if (error is not null) return error;
        var username = input!.String("username", required: true);
        var password = input.String("password", required: true, allowEmpty: true, maxLength: 1024);
        if (!input.IsValid) return ApiResults.Invalid(input.Errors);

        var user = await users.GetByUsernameAsync(username!, ctx.RequestAborted);
        // An unknown user costs the same hashing time as a wrong password: no username probing by timing.
        if (!await Task.Run(() => PasswordHasher.Verify(password!, user?.PasswordHash ?? DummyHash)) || user is null)
        {
            limiter.Failed(ip);
            return ApiResults.Error(401, "invalid_credentials", "wrong username or password");
        }
        limiter.Succeeded(ip);
        var (token, expires) = tokens.Issue(user.Id, user.TokenVersion);
        return ApiResults.Json(new LoginReply(token, Times.Format(expires.ToUnixTimeMilliseconds()), user.MustChangePassword), AdminJsonContext.Default.LoginReply);
    }

    private static async Task<IResult> ChangePassword(HttpContext ctx, AdminUserStore users, TokenService tokens)
    {
        var (input, error) = await JsonInput.ReadAsync(ctx, ["old_password", "new_password"]);
        if (error is not null) return error;
        var oldPassword = input!.String("old_password", required: true, allowEmpty: true, maxLength: 1024);
        var newPassword = input.String("new_password", required: true, allowEmpty: true, maxLength: 1024);
        if (newPassword is not null && newPassword.Length < 8) input.Fail("new_password", "must be at least 8 characters");
        if (newPassword is not null && newPassword == oldPassword) input.Fail("new_password", "must differ from the old password");
        if (!input.IsValid) return ApiResults.Invalid(input.Errors);

        var user = AdminAuth.User(ctx);
        if (!await Task.Run(() => PasswordHasher.Verify(oldPassword!, user.PasswordHash)))
            return ApiResults.Error(403, "invalid_credentials", "old_password is wrong");
        var updated = await users.UpdatePasswordAsync(user.Id, await Task.Run(() => PasswordHasher.Hash(newPassword!)), mustChange: false, ctx.RequestAborted);
        if (updated is null) return ApiResults.Unauthorized();
        // Old tokens died with the version bump; hand out a fresh one.
        var (token, expires) = tokens.Issue(updated.Id, updated.TokenVersion);
        return ApiResults.Json(new LoginReply(token, Times.Format(expires.ToUnixTimeMilliseconds()), false), AdminJsonContext.Default.LoginReply);
    }
}
