using Octopus.Storage;

namespace Octopus.Relay.Health;

/// <summary>Persists key set-aside / recovery so the status (and its reason) survives restarts and shows in the admin API.</summary>
internal sealed class KeyStatusWriter
{
    public KeyStatusWriter(KeyPool pool, ChannelStore store, TimeProvider clock, ILogger<KeyStatusWriter> log)
    {
        pool.KeyStatusChanged += (keyId, status, reason) =>
        {
            if (status == Domain.KeyStatus.SetAside) log.LogWarning("Upstream key {KeyId} set aside: {Reason}", keyId, reason);
            else log.LogInformation("Upstream key {KeyId} is active again", keyId);
            _ = Task.Run(async () =>
            {
                try
                {
                    await store.UpdateKeyStatusAsync(keyId, status, reason, clock.GetUtcNow().ToUnixTimeMilliseconds(), CancellationToken.None);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    // The in-memory state is what the relay uses; the database copy catches up on the next change.
                    log.LogWarning("Could not save status of key {KeyId}: {Error}", keyId, e.Message);
                }
            });
        };
    }
}
