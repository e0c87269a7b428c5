namespace Bus.Testing;

/// <summary>Waits on a condition with a deadline, instead of sleeping for a guessed time.</summary>
public static class Eventually
{
    public static async Task<T> Get<T>(Func<Task<T>> probe, Func<T, bool> done, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        T last;
        while (true)
        {
            last = await probe();
            if (done(last))
                return last;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"{what}: not reached within {timeout.TotalSeconds} s; last seen: {last}");
            await Task.Delay(100);
        }
    }
}
