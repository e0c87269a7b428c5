using Bus.Worker.Extensions;

var builder = Host.CreateApplicationBuilder(args);
builder.AddWorkerServices();
builder.Build().Run();
