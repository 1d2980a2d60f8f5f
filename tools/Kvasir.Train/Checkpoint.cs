namespace Kvasir.Train;

/// <summary>Saves and restores parameters, AdamW moments and the step count (raw little-endian floats).</summary>
internal static class Checkpoint
{
    private const uint Magic = 0x4B565443; // "KVTC"

    public static void Save(string path, ParameterSet parameters, AdamW optimizer)
    {
        var temp = path + ".partial";
        using (var s = new BinaryWriter(File.Create(temp)))
        {
            s.Write(Magic);
            s.Write(parameters.Count);
            s.Write(optimizer.Step);
            foreach (var array in new[] { parameters.Values, optimizer.FirstMoment, optimizer.SecondMoment })
            {
                s.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(array.AsSpan()));
            }
        }

        File.Move(temp, path, overwrite: true);
    }

    public static void Load(string path, ParameterSet parameters, AdamW optimizer)
    {
        using var s = new BinaryReader(File.OpenRead(path));
        if (s.ReadUInt32() != Magic || s.ReadInt32() != parameters.Count)
        {
            throw new InvalidDataException($"{path} is not a checkpoint of this model shape.");
        }

        optimizer.Restore(s.ReadInt32());
        foreach (var array in new[] { parameters.Values, optimizer.FirstMoment, optimizer.SecondMoment })
        {
            s.BaseStream.ReadExactly(System.Runtime.InteropServices.MemoryMarshal.AsBytes(array.AsSpan()));
        }
    }
}
