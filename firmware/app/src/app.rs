//! The application: find the image, check it, run every input, report.

use defmt::Display2Format;
use lowbit_image::{Image, crc32};

use crate::{
    counter::Counter,
    exit::ExitStatus,
    memory::{self, Buffers},
    program::Program,
    records, scores, sys,
};

/// Runs the image and returns how the run ended.
pub fn run() -> ExitStatus {
    records::boot(env!("LOWBIT_BOARD_NAME"), memory::MODE, Counter::KIND);
    if cfg!(feature = "selftest-panic") {
        panic!("self-test panic");
    }
    if cfg!(feature = "selftest-fault") {
        sys::undefined_instruction();
    }
    let image = match Image::parse(memory::image_region()) {
        Ok(image) => image,
        Err(error) => {
            defmt::error!("lowbit.error image: {}", Display2Format(&error));
            return ExitStatus::BadModel;
        }
    };
    #[cfg(not(feature = "compiled"))]
    let model = match lowbit_runtime::Model::from_bytes(image.model) {
        Ok(model) => model,
        Err(error) => {
            defmt::error!("lowbit.error model: {}", Display2Format(&error));
            return ExitStatus::BadModel;
        }
    };
    #[cfg(not(feature = "compiled"))]
    let program = Program::new(&model);
    #[cfg(feature = "compiled")]
    let program = Program;
    let model = program.model();
    let Buffers { arena, output } = match memory::buffers(model.output_len()) {
        Ok(buffers) => buffers,
        Err(shortfall) => {
            defmt::error!(
                "lowbit.error no room for the output: {=u32} bytes needed, {=u32} free",
                shortfall.needed,
                shortfall.available
            );
            return ExitStatus::ArenaTooSmall;
        }
    };
    records::model(
        model.file_len(),
        model.input_len(),
        image.input_count,
        model.output_len(),
        model.arena_size(),
        arena.len(),
    );
    if arena.len() < model.arena_size() {
        defmt::error!(
            "lowbit.error arena too small: model needs {=u32} bytes, board has {=u32}",
            model.arena_size() as u32,
            arena.len() as u32
        );
        return ExitStatus::ArenaTooSmall;
    }
    if image.input_len as usize != model.input_len() || image.input_count == 0 {
        defmt::error!(
            "lowbit.error image has {=u32} inputs of {=u32} bytes, the model takes inputs of {=u32} bytes",
            image.input_count,
            image.input_len,
            model.input_len() as u32
        );
        return ExitStatus::BadInput;
    }

    let counter = Counter::start();
    let output_info = model.output();
    for index in 0..image.input_count {
        let Some(input) = image.input(index) else { return ExitStatus::BadInput };
        let before = counter.now();
        let result = program.infer(arena, input, output);
        let after = counter.now();
        if let Err(error) = result {
            defmt::error!("lowbit.error inference {=u32}: {}", index, Display2Format(&error));
            return ExitStatus::RunFailed;
        }
        records::run(index, Counter::delta(before, after), crc32(output), output);
        if scores::is_classifier(&output_info) {
            for top in scores::top_k(output, &output_info) {
                records::top(index, &top);
            }
        }
    }
    ExitStatus::Success
}
