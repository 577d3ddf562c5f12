namespace Octopus.Hosting;

/// <summary>
/// For HTTP clients whose callers read whole replies and then do blocking or long work (a database write, a
/// multi-MB parse): the reply is read here, and the caller resumes on a pool thread. With server.inline_completions
/// the last socket read completes on the socket engine's event thread, and the caller's code would run there, holding
/// up every relayed request that thread serves. The reply is always read whole, even for a caller that asked for
/// headers only: not for streaming.
/// </summary>
internal sealed class PoolResumingHandler(HttpMessageHandler inner) : DelegatingHandler(inner)
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
    {
        var response = await base.SendAsync(request, ct);
        try
        {
            await response.Content.LoadIntoBufferAsync(ct);
        }
        catch
        {
            response.Dispose();
            throw;
        }
        await EventThreads.LeaveAsync();
        return response;
    }
}
