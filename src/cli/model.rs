//! The model the flags name: resolved (a committed name or a file) and loaded.

use crate::model::{Classifier, LoadOptions, ModelSource};
use crate::Error;

use super::args::ModelArgs;

impl ModelArgs {
    /// The model: `--model` resolved (a name or a path), else the default.
    pub fn source(&self) -> Result<ModelSource, Error> {
        Ok(match &self.model {
            Some(m) => ModelSource::resolve(m)?,
            None => ModelSource::default_model(),
        })
    }

    /// Loads the model with the flags' labels and normalisation; logs how long it took.
    pub fn load(&self) -> Result<Classifier, Error> {
        let source = self.source()?;
        let opts = LoadOptions {
            labels: self.labels.clone(),
            mean: self.mean.clone(),
            std: self.std.clone(),
        };
        let started = std::time::Instant::now();
        // The library's errors already name the model file.
        let c = Classifier::open(&source, &opts)?;
        log::info!(
            "loaded {} in {:.0} ms",
            source.path().display(),
            started.elapsed().as_secs_f64() * 1e3
        );
        Ok(c)
    }
}
