using Bus.Reconciler.Extensions;

var builder = Host.CreateApplicationBuilder(args);
builder.AddReconcilerServices();
builder.Build().Run();
