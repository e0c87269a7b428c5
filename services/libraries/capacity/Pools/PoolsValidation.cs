using Microsoft.Extensions.Options;

namespace Bus.Capacity.Pools;

/// <summary>
/// Checks the pool list of any options class that carries it, with a message naming what is wrong
/// (<see cref="PoolSet.Problem"/>). Registered, it runs at start and at every reload: a reload it fails is refused.
/// </summary>
public sealed class PoolsValidation<TOptions> : IValidateOptions<TOptions> where TOptions : WorkerPoolsOptions
{
    public ValidateOptionsResult Validate(string? name, TOptions options) =>
        PoolSet.Problem(options.Pools) is { } problem ? ValidateOptionsResult.Fail(problem) : ValidateOptionsResult.Success;
}
