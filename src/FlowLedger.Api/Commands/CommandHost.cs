using Marten;

namespace FlowLedger.Api.Commands;

public static class CommandHost
{
    /// <summary>
    /// The event store of a host built for a command. Commands do not start the app, so the schema the
    /// app applies at start is applied here.
    /// </summary>
    public static async Task<IDocumentStore> LedgerStoreAsync(this IHost host)
    {
        var store = host.Services.GetRequiredService<IDocumentStore>();
        await store.Storage.ApplyAllConfiguredChangesToDatabaseAsync();
        return store;
    }
}
