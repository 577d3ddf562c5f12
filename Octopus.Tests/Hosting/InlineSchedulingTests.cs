using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Octopus.Hosting;
using Octopus.Storage;
using Octopus.Tests.Infrastructure;

namespace Octopus.Tests.Hosting;

public sealed class InlineSchedulingTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Server_inline_scheduling_sets_kestrel_socket_scheduling_and_the_admin_api_answers_either_way(bool inline)
    {
        await using var test = await TestDatabase.CreateAsync(DbKind.Sqlite);
        test.Config.Host = "127.0.0.1";
        test.Config.Port = 0;
        test.Config.InlineScheduling = inline;
        await using var app = await OctopusServer.BuildAsync(test.Config);
        Assert.Equal(inline, app.Services.GetRequiredService<IOptions<SocketTransportOptions>>().Value.UnsafePreferInlineScheduling);
        await app.StartAsync();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri(OctopusServer.ListeningAddresses(app).First()) };
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/readyz")).StatusCode);
            // An admin call (database work, moved off the socket thread) and a relay call in parallel.
            var admin = http.PostAsync("/api/v1/auth/login", new StringContent("""{"username":"admin","password":"wrong-password"}""", System.Text.Encoding.UTF8, "application/json"));
            var relay = http.PostAsync("/v1/chat/completions", new StringContent("""{"model":"m","messages":[]}""", System.Text.Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.Unauthorized, (await admin).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await relay).StatusCode);
        }
        finally
        {
            await app.StopAsync();
        }
    }
}
