namespace FlowLedger.Api.Hosting;

public static class ExceptionExtensions
{
    /// <summary>The first exception of type <typeparamref name="T"/> in the chain of inner exceptions, if any.</summary>
    public static T? FindInner<T>(this Exception exception) where T : Exception
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (current is T found)
            {
                return found;
            }
            if (current is AggregateException aggregate && aggregate.InnerExceptions.Select(e => e.FindInner<T>()).FirstOrDefault(e => e is not null) is { } inAggregate)
            {
                return inAggregate;
            }
        }
        return null;
    }
}
