using Bus.Worker;
using Bus.Worker.Extensions;

var builder = Host.CreateApplicationBuilder(args);
builder.Configuration.AddCommandLine(args, WorkerOptions.CommandLineSwitches);
builder.AddWorkerServices();
builder.Build().Run();
