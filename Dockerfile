# One image recipe for every service (docker-compose.yml passes SERVICE and ASSEMBLY).
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
ARG SERVICE
ARG ASSEMBLY
WORKDIR /src
COPY . .
RUN dotnet publish services/${SERVICE}/${ASSEMBLY}.csproj -c Release -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0
ARG ASSEMBLY
ENV ASSEMBLY=${ASSEMBLY}
WORKDIR /app
COPY --from=build /app .
ENTRYPOINT ["sh", "-c", "exec dotnet /app/${ASSEMBLY}.dll"]
