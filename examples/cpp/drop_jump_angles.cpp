// Motion pillar: read a C3D → joint angles → drop-jump screening features.
//
// The program makes its own C3D: the library's synthetic athlete (a seeded drop vertical
// jump with noisy markers, dropouts and vertical ground reaction forces) is written to
// drop_jump.c3d. It then reads that file back as any lab file would be read, fits the
// segment model to the markers, computes Plug-in Gait hip/knee/ankle angles per side and
// the screening features (Hewett 2005; Myer 2010), prints them, and checks the peak knee
// abduction against the angles the generator prescribed. Exits non-zero when a check fails.
//
// usage: drop_jump_angles [out.c3d]

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <string>

#include <sportsmed/motion.hpp>

namespace sm = sportsmed::motion;

int main(int argc, char** argv) {
    const std::string path = argc > 1 ? argv[1] : "drop_jump.c3d";
    try {
        // 1. A C3D file to read (a lab would have one from its Vicon/Qualisys system).
        sm::DropJumpSpec spec;
        spec.knee_valgus_peak_deg = 10.0;
        const sm::SyntheticDropJump athlete = sm::synthesize_drop_jump(spec);
        sm::write_c3d(path, athlete.trial);

        // 2. Read it back: markers (mm, NaN in gaps) and the analog force channels.
        const sm::C3d c3d = sm::read_c3d(path);
        const sm::Trial& trial = c3d.trial;
        std::printf("%s: %lld frames at %g Hz, %lld markers, %zu analog channels at %g Hz\n", path.c_str(),
                    static_cast<long long>(trial.n_frames()), trial.point_rate_hz,
                    static_cast<long long>(trial.n_markers()), trial.analog_labels.size(), trial.analog_rate_hz);

        // 3. Joint angles (frames × 9: hip, knee, ankle × flexion, abduction, rotation; degrees):
        //    gap filling, Butterworth filtfilt at 12 Hz, rigid segment fits, Cardan angles.
        const sportsmed::RowMatXd left = sm::model_angles(trial, athlete.model, "L");
        const sportsmed::RowMatXd right = sm::model_angles(trial, athlete.model, "R");

        // 4. Screening features from the angles and each foot's vertical force.
        auto channel = [&](const std::string& label) {
            const auto it = std::find(trial.analog_labels.begin(), trial.analog_labels.end(), label);
            if (it == trial.analog_labels.end()) throw sportsmed::NotFound(path + ": no analog channel " + label);
            return sportsmed::VecXd(trial.analogs.col(it - trial.analog_labels.begin()));
        };
        const auto features = sm::drop_jump_features(left, right, trial.point_rate_hz, channel("Fz_L"),
                                                     channel("Fz_R"), trial.analog_rate_hz, athlete.body_mass_kg);
        std::map<std::string, double> f;
        for (const auto& x : features) {
            std::printf("  %-34s %10.3f %s\n", x.name.c_str(), x.value, x.unit.c_str());
            f[x.name] = x.value;
        }

        // 5. Check against the truth the generator prescribed (valgus = -PiG varus, column 4).
        const double rate = trial.point_rate_hz;
        const auto ic = static_cast<Eigen::Index>(std::lround(f.at("initial_contact_s") * rate));
        const auto to = static_cast<Eigen::Index>(std::lround(f.at("take_off_s") * rate));
        const double truth = (-athlete.true_angles_left.col(4).segment(ic, to - ic)).maxCoeff();
        const double ours = f.at("left_peak_knee_abduction_deg");
        std::printf("left peak knee abduction: %.2f deg (prescribed %.2f deg)\n", ours, truth);
        if (!(std::abs(ours - truth) <= 1.0)) {
            std::fprintf(stderr, "peak knee abduction differs from the prescribed one by more than 1 degree\n");
            return 1;
        }
    } catch (const sportsmed::Error& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
    return 0;
}
