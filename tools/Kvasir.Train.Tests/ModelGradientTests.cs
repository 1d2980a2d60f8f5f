namespace Kvasir.Train.Tests;

/// <summary>The whole model's backward pass (every layer wired together) against finite differences of its loss.</summary>
public class ModelGradientTests
{
    internal static readonly TrainConfig Tiny = new()
    {
        Dim = 32,
        Layers = 2,
        Heads = 4,
        KvHeads = 2,
        FeedForward = 48,
        VocabSize = 64,
        ContextLength = 64,
    };

    internal static TrainBatch TinyBatch()
    {
        var rng = new Random(5);
        var batch = new TrainBatch();
        foreach (var length in new[] { 9, 21 })
        {
            var tokens = new int[length];
            var weights = new float[length - 1];
            for (var i = 0; i < length; i++)
            {
                tokens[i] = rng.Next(64);
            }

            for (var i = 0; i < weights.Length; i++)
            {
                weights[i] = i % 5 == 4 ? 3f : 1f;
            }

            batch.Add(tokens, weights);
        }

        return batch;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void EveryTensorsGradientMatchesFiniteDifferences(bool tied)
    {
        var parameters = new ParameterSet(Tiny with { TiedEmbeddings = tied });
        parameters.Initialize(7);

        // A larger scale than training's init, so that every gradient is well above float rounding.
        for (var i = 0; i < parameters.Values.Length; i++)
        {
            parameters.Values[i] *= parameters.Values[i] == 1f ? 1f : 10f;
        }

        var batch = TinyBatch();
        var trainer = new LlamaTrainer(parameters, 64, 64L * 64 * 4);
        trainer.ForwardBackward(batch);
        var analytic = (float[])trainer.Grads.Clone();
        double Loss()
        {
            var (loss, weight) = trainer.Evaluate(batch);
            return loss / weight;
        }

        var rng = new Random(3);
        foreach (var t in parameters.Tensors)
        {
            var indices = Enumerable.Range(0, 8).Select(_ => t.Offset + rng.Next(t.Length)).Distinct().ToArray();
            var numeric = GradientCheck.Numeric(parameters.Values, Loss, indices, eps: 2e-3f);
            GradientCheck.AssertClose(analytic, numeric, t.Name, indices);
        }
    }
}
