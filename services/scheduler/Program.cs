using Bus.Scheduler.Extensions;

var builder = Host.CreateApplicationBuilder(args);
builder.AddSchedulerServices();
builder.Build().Run();
