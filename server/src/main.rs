//! The `portolan` binary: parse the command line, set up logging, run the chosen command.

use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind;

use server::config::{Cli, Command, LogFormat};
use server::error::StartupError;

// Rendering a page allocates many small strings and nodes; mimalloc serves them faster than
// glibc's allocator (measured with `make bench`).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err)
            if matches!(
                err.kind(),
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
            ) =>
        {
            let _ = err.print();
            return ExitCode::SUCCESS;
        }
        Err(err) => {
            // clap explains at length; one line naming the problem is what an operator needs.
            let rendered = err.to_string();
            let mut lines = rendered.lines().map(str::trim);
            let first = lines.next().unwrap_or("invalid command line");
            let mut first = first.strip_prefix("error: ").unwrap_or(first).to_string();
            // "required arguments were not provided:" lists them on the lines that follow.
            if first.ends_with(':') {
                let listed: Vec<&str> = lines.take_while(|l| !l.is_empty()).collect();
                first = format!("{} {}", first, listed.join(", "));
            }
            eprintln!("portolan: {first} (see `portolan --help`)");
            return ExitCode::from(2);
        }
    };
    init_logging(cli.config.log_format);

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => return fail(StartupError::Runtime(err)),
    };
    let result = runtime.block_on(async move {
        match cli.command.unwrap_or(Command::Serve) {
            Command::Serve => server::serve(cli.config).await,
            Command::Migrate => server::migrate(cli.config).await,
            Command::Sim(args) => server::simulate::run(cli.config, args).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => fail(err),
    }
}

fn fail(err: StartupError) -> ExitCode {
    eprintln!("portolan: {err}");
    ExitCode::FAILURE
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("PORTOLAN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}
