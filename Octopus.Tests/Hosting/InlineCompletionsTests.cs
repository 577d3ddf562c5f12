using System.Net;
using Octopus.Configuration;
using Octopus.Hosting;
using Octopus.Tests.Infrastructure;

namespace Octopus.Tests.Hosting;

/// <summary>server.inline_completions: socket completions continue on the event threads; background HTTP callers do not.</summary>
public sealed class InlineCompletionsTests
{
    [Theory]
    [InlineData(null)]
    [InlineData("false")]
    public async Task The_started_gateway_runs_socket_completions_inline_unless_configured_off(string? setting)
    {
        Assert.True(new OctopusConfig().InlineCompletions);
        var inline = setting is null;
        var dir = Directory.CreateTempSubdirectory("octopus-inline-").FullName;
        try
        {
            var env = new Dictionary<string, string>();
            if (setting is not null) env["OCTOPUS_SERVER_INLINE_COMPLETIONS"] = setting;
            using var gateway = await GatewayProcess.StartAsync(new OctopusConfig { DatabaseType = "sqlite", DatabasePath = "data/data.db" }, dir, env);
            using var http = new HttpClient { BaseAddress = new Uri(gateway.BaseUrl) };
            // The admin login (password hashing after a database read) and the relay both answer.
            var login = await http.PostAsync("/api/v1/auth/login", new StringContent("""{"username":"admin","password":"wrong-password"}""", System.Text.Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.Unauthorized, login.StatusCode);
            var relay = await http.PostAsync("/v1/chat/completions", new StringContent("""{"model":"m","messages":[]}""", System.Text.Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.Unauthorized, relay.StatusCode);
            // The runtime saw the variable: inline, it runs one socket event thread per core instead of one in all.
            var eventThreads = Directory.GetDirectories($"/proc/{gateway.Pid}/task")
                .Count(t => File.ReadAllText(Path.Combine(t, "comm")).Trim() == ".NET Sockets");
            Assert.Equal(inline ? Environment.ProcessorCount : 1, eventThreads);
            await gateway.TerminateCleanlyAsync();
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Inline_scheduling_with_inline_completions_starts_with_a_warning()
    {
        var dir = Directory.CreateTempSubdirectory("octopus-inline-").FullName;
        try
        {
            using var gateway = await GatewayProcess.StartAsync(new OctopusConfig { DatabaseType = "sqlite", DatabasePath = "data/data.db" }, dir,
                new Dictionary<string, string> { ["OCTOPUS_SERVER_INLINE_SCHEDULING"] = "true" });
            await gateway.TerminateCleanlyAsync();
            Assert.Contains("server.inline_scheduling and server.inline_completions are both on", await gateway.OutputAsync());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task A_background_client_reads_the_reply_and_resumes_on_the_pool_not_the_completing_thread()
    {
        using var direct = new HttpClient(new CompletesOnItsOwnThread());
        using var resuming = new HttpClient(new PoolResumingHandler(new CompletesOnItsOwnThread()));
        // Task.Run: no test synchronization context to post the continuation back to.
        var (directOnPool, _) = await Task.Run(() => Call(direct));
        var (resumingOnPool, body) = await Task.Run(() => Call(resuming));
        Assert.False(directOnPool); // what an inline socket completion does to a caller
        Assert.True(resumingOnPool);
        Assert.Equal("""{"data":[]}""", body);

        static async Task<(bool OnPool, string Body)> Call(HttpClient client)
        {
            using var response = await client.GetAsync("http://127.0.0.1:9/v1/models");
            var onPool = Thread.CurrentThread.IsThreadPoolThread;
            return (onPool, await response.Content.ReadAsStringAsync());
        }
    }

    /// <summary>Completes each reply on a thread of its own, as the socket engine's event thread does.</summary>
    private sealed class CompletesOnItsOwnThread : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct) =>
            OffPool.Complete(() => new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("""{"data":[]}""") });
    }
}
