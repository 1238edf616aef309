-- Kubefile, Sealfile, *.Kubefile and Kubefile.* are Sealos Kubefiles.
if vim.fn.has('nvim-0.8') == 1 then
  vim.filetype.add({
    filename = { Kubefile = 'kubefile', Sealfile = 'kubefile' },
    pattern = {
      ['.*%.Kubefile'] = 'kubefile',
      ['Kubefile%..*'] = 'kubefile',
    },
  })
else
  vim.cmd([[
    augroup kubefile_ftdetect
      autocmd!
      autocmd BufNewFile,BufRead Kubefile,Sealfile,*.Kubefile,Kubefile.* setfiletype kubefile
    augroup END
  ]])
end
