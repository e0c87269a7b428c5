namespace Bus.Contracts;

/// <summary>An amount of each resource a job needs or a worker has.</summary>
public record ResourceVector(int Cpus, int MemoryMb, int Gpus);
