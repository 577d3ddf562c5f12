using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Octopus.Domain;
using Octopus.Tests.Infrastructure;
using static Octopus.Tests.Infrastructure.RelayHost;
using static Octopus.Tests.Relay.RelayBalancingTests;

namespace Octopus.Tests.Stats;

public sealed class MetricsTests
{
    private static async Task<JsonElement> ParseWithPrometheusParserAsync(string text)
    {
        var dir = Path.Combine(Configuration.ConfigLoaderTests.RepoRoot(), "Octopus.Tests", "Sdk");
        using var p = Process.Start(new ProcessStartInfo("node", "prometheus.mjs") { WorkingDirectory = dir, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true })!;
        await p.StandardInput.WriteAsync(text);
        p.StandardInput.Close();
        var output = await p.StandardOutput.ReadToEndAsync();
        await p.WaitForExitAsync();
        Assert.True(p.ExitCode == 0, "parser rejected the metrics: " + await p.StandardError.ReadToEndAsync());
        return JsonDocument.Parse(output).RootElement.Clone();
    }

    private static double Sum(JsonElement families, string name, Func<JsonElement, bool>? where = null)
    {
        var family = families.EnumerateArray().Single(f => f.GetProperty("name").GetString() == name);
        return family.GetProperty("metrics").EnumerateArray()
            .Where(m => where?.Invoke(m.GetProperty("labels")) ?? true)
            .Sum(m => double.Parse(m.GetProperty("value").GetString()!, System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Metrics_parse_as_Prometheus_text_and_count_what_was_sent()
    {
        await using var host = await StartAsync(c => c.MetricsToken = "metrics-secret");
        var (mocks, channels) = await MocksAsync(host, 2);
        mocks[1].Behave = _ => new MockUpstream.Reply { Status = 500, Body = """{"error":{"message":"x"}}""" };
        await host.AddGroupAsync("g", GroupMode.Failover, [Member(channels[1], priority: 0), Member(channels[0], priority: 1)], NoAffinity);
        using var client = host.ClientFor(await host.AddApiKeyAsync());
        for (var i = 0; i < 7; i++) Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/v1/chat/completions", Chat("g", stream: i % 2 == 0))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.PostAsync("/v1/chat/completions", Chat("missing"))).StatusCode);

        Assert.Equal(HttpStatusCode.Unauthorized, (await host.Http.GetAsync("/metrics")).StatusCode);
        var req = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        req.Headers.Authorization = new("Bearer", "metrics-secret");
        var res = await host.Http.SendAsync(req);
        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        var families = await ParseWithPrometheusParserAsync(await res.Content.ReadAsStringAsync());

        Assert.Equal(7, Sum(families, "octopus_requests_total", l => l.GetProperty("group").GetString() == "g" && l.GetProperty("status").GetString() == "200"));
        Assert.Equal(1, Sum(families, "octopus_requests_total", l => l.GetProperty("status").GetString() == "404"));
        Assert.Equal(7 * Wire.OutputTokens, Sum(families, "octopus_tokens_total", l => l.GetProperty("type").GetString() == "output"));
        // Every call that reached the failing channel is an upstream error (cool-down and set-aside then route around it).
        Assert.Equal(mocks[1].Count, Sum(families, "octopus_upstream_errors_total", l => l.GetProperty("channel").GetString() == "c1"));
        Assert.True(mocks[1].Count >= 1);
        var latency = families.EnumerateArray().Single(f => f.GetProperty("name").GetString() == "octopus_request_duration_seconds");
        Assert.Equal("HISTOGRAM", latency.GetProperty("type").GetString());
        Assert.Equal("7", latency.GetProperty("metrics")[0].GetProperty("buckets").GetProperty("+Inf").GetString());
        foreach (var m in mocks) await m.DisposeAsync();
    }
}
