using BenchmarkDotNet.Running;

// BenchmarkDotNet micro-benchmarks of the kernels, one class per kernel family. Run all, or pick with a filter:
//   dotnet run -c Release --project benchmarks/Kvasir.MicroBenchmarks -- --filter '*MatMul*'
// Add --job short for a quick look. Whole-model comparisons with llama.cpp are in benchmarks/Kvasir.Benchmarks.
BenchmarkSwitcher.FromAssembly(typeof(Kvasir.MicroBenchmarks.MatMulBenchmarks).Assembly).Run(args);
