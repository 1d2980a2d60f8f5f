namespace Kvasir.Train;

/// <summary>Linear warmup to the peak learning rate, then cosine decay to <c>minFraction</c> of it.</summary>
internal sealed record CosineSchedule(float PeakLearningRate, int WarmupSteps, int TotalSteps, float MinFraction = 0.1f)
{
    public float At(int step)
    {
        if (step < WarmupSteps)
        {
            return PeakLearningRate * (step + 1) / WarmupSteps;
        }

        var progress = Math.Clamp((float)(step - WarmupSteps) / Math.Max(1, TotalSteps - WarmupSteps), 0f, 1f);
        var cosine = 0.5f * (1f + MathF.Cos(MathF.PI * progress));
        return PeakLearningRate * (MinFraction + ((1 - MinFraction) * cosine));
    }
}
