# One image recipe for every service (docker-compose.yml passes SERVICE and ASSEMBLY).
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
ARG SERVICE
ARG ASSEMBLY
# The worker's job launcher (services/worker/Execution/bus-launch.c) is built with it, in C.
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN dotnet publish services/${SERVICE}/${ASSEMBLY}.csproj -c Release -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0
ARG ASSEMBLY
ENV ASSEMBLY=${ASSEMBLY}
WORKDIR /app
COPY --from=build /app .
ENTRYPOINT ["sh", "-c", "exec dotnet /app/${ASSEMBLY}.dll"]
