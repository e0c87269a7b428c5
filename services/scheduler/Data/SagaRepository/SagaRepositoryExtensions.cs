using MassTransit;
using MassTransit.Configuration;
using MassTransit.Saga;
using Microsoft.EntityFrameworkCore;

namespace Bus.Scheduler.Data.SagaRepository;

public static class SagaRepositoryExtensions
{
    /// <summary>Persists <typeparamref name="TSaga"/> with <see cref="EfSagaRepositoryContextFactory{TSaga,TDbContext}"/>.</summary>
    public static ISagaRegistrationConfigurator<TSaga> EfCoreRepository<TSaga, TDbContext>(this ISagaRegistrationConfigurator<TSaga> configurator)
        where TSaga : class, ISagaVersion
        where TDbContext : DbContext
    {
        configurator.Repository(r =>
        {
            r.RegisterSagaRepository<TSaga, TDbContext, SagaConsumeContextFactory<TDbContext, TSaga>,
                EfSagaRepositoryContextFactory<TSaga, TDbContext>>();
            r.RegisterLoadSagaRepository<TSaga, EfSagaRepositoryContextFactory<TSaga, TDbContext>>();
            r.RegisterQuerySagaRepository<TSaga, EfSagaRepositoryContextFactory<TSaga, TDbContext>>();
        });
        return configurator;
    }
}
